package serviceuser

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/hooks"
)

// PATConfig uses a ZITADEL personal access token: a static bearer token made
// in the console for a machine user. It cannot be renewed, so a 401 from the
// server is returned as ErrPATRejected rather than retried.
type PATConfig struct {
	// PAT supplies the personal access token: a Secret (see ReadPAT and
	// PATFromEnv) is a token that never changes. Any other source, such as
	// a *filewatch.SecretSource or one of your own, may hand out a new
	// token (rotation): a token source then asks it again at least every
	// 30 s (and before that while it backs off, when the source is a
	// RotatingSource), so an old token should be deleted no sooner than
	// that after the new one is handed out.
	PAT SecretSource
	// Expiry is when the token expires, as set in the console; zero means
	// never. It is for a Secret only: the tokens of another source each
	// have their own.
	Expiry time.Time
	// HTTPClient's transport sends the API requests; nil means
	// http.DefaultTransport (or the client ctx carries under oauth2.HTTPClient).
	HTTPClient *http.Client
	// OrgID, when set, is sent as the x-zitadel-orgid header.
	OrgID string
	// Issuer is the ZITADEL instance; it is needed only with Route, which
	// applies to requests to its origin.
	Issuer string
	// Route means what it means in Config, for API requests through Client.
	Route Route
	// Hooks, when set, are told of tokens an API refused and of rotation.
	Hooks *hooks.Hooks
}

// patRecheck is how long a PAT without expiry is served before the source
// checks it again; the check makes no request. patWatchRecheck is the same
// for a PAT from a source that may rotate it.
const (
	patRecheck      = 24 * time.Hour
	patWatchRecheck = 30 * time.Second
)

// TokenSource returns a source of the token, as long as it has not expired.
// It makes no request; ctx only supplies values, as in Config.TokenSource.
func (c PATConfig) TokenSource(ctx context.Context) *TokenSource {
	s := c.settings()
	r, _ := s.check() // a config that cannot work fails at every token; its API requests get no route
	api := s.apiClient(s.httpClient(ctx), r)
	api.rejected = ErrPATRejected
	use := c.use()
	fetch := func(ctx context.Context) (*oauth2.Token, error) { return c.token(ctx, use.take) }
	return newTokenSource(ctx, fetch, sourceOptions{api: api, budget: DefaultTimeout, changed: use.changed})
}

// Client returns an *http.Client that sends the token with every request
// (see TokenSource.Client); a 401 answer becomes ErrPATRejected.
func (c PATConfig) Client(ctx context.Context) *http.Client {
	return c.TokenSource(ctx).Client()
}

// Token returns the token, as long as it has not expired. It returns ctx's
// error once ctx ends, even while a source of your own is still answering.
func (c PATConfig) Token(ctx context.Context) (*oauth2.Token, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	return withinContext(ctx, func() (*oauth2.Token, error) { return c.token(ctx, c.use().take) })
}

// token returns the token current supplies, checked, with the expiry to
// serve it until.
func (c PATConfig) token(ctx context.Context, current func(context.Context) (Secret, error)) (*oauth2.Token, error) {
	pat, err := c.checked(ctx, current)
	if err != nil {
		return nil, err
	}
	expiry := c.Expiry
	switch {
	case !c.fixed():
		expiry = time.Now().Add(patWatchRecheck)
	case expiry.IsZero():
		expiry = time.Now().Add(patRecheck)
	case !time.Now().Before(expiry):
		return nil, fmt.Errorf("%w at %s", ErrPATExpired, expiry.UTC().Format(time.RFC3339))
	}
	return &oauth2.Token{AccessToken: string(pat), TokenType: "Bearer", Expiry: expiry}, nil
}

// use follows the PAT's source for one token source.
func (c PATConfig) use() *credentialUse[Secret] {
	current := func() (Secret, error) { return "", nil } // no source: refused as missing
	if c.PAT != nil {
		current = c.PAT.CurrentSecret
	}
	return newCredentialUse(c.PAT, current, nil, (*hookSet)(c.Hooks))
}

// fixed reports a PAT that cannot change: a Secret, or none.
func (c PATConfig) fixed() bool {
	_, ok := c.PAT.(Secret)
	return ok || c.PAT == nil
}

// Validate reports a token that cannot work.
func (c PATConfig) Validate() error {
	_, err := c.checked(context.Background(), c.use().take)
	return err
}

// checked returns the token current supplies once the config is checked.
func (c PATConfig) checked(ctx context.Context, current func(context.Context) (Secret, error)) (Secret, error) {
	s := c.settings()
	if !c.fixed() && !c.Expiry.IsZero() {
		return "", s.configError("Expiry", "for a fixed PAT (a Secret) only: each token another source supplies has its own")
	}
	pat, err := current(ctx)
	switch {
	case err != nil:
		return "", err
	case pat == "":
		return "", s.configError("PAT", "missing")
	}
	if _, err := checkPAT(string(pat), ""); err != nil {
		return "", s.configError("PAT", err.Error())
	}
	if _, err := s.check(); err != nil {
		return "", err
	}
	return pat, nil
}

func (c PATConfig) settings() settings {
	return settings{config: "PATConfig", issuer: c.Issuer, issuerOptional: true, client: c.HTTPClient, orgID: c.OrgID,
		route: c.Route, hooks: (*hookSet)(c.Hooks)}
}
