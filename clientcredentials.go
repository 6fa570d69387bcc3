package serviceuser

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/internal/cache"
	"github.com/go-serviceuser/serviceuser/internal/discovery"
	"github.com/go-serviceuser/serviceuser/internal/exchange"
)

// ClientCredentialsConfig obtains tokens for a machine user that has a client
// secret instead of a key, with the OAuth 2.0 client_credentials grant. The
// token source it returns caches, refreshes and retries exactly like
// Config's.
type ClientCredentialsConfig struct {
	// ClientID is the machine user's login name.
	ClientID string
	// ClientSecret supplies the secret ZITADEL generated for the machine
	// user: a Secret never changes; a *filewatch.SecretSource (a file read
	// again when it changes), or a source of your own, may hand out a new
	// one under a running token source (see RotatingSource). It is asked
	// before every token request.
	ClientSecret SecretSource
	// Issuer, Route, Scopes, TokenURL, HTTPClient, Timeout, OrgID, Hooks,
	// RefreshAhead and ExpiryMargin mean what they mean in Config.
	Issuer       string
	Route        Route
	Scopes       []string
	TokenURL     string
	HTTPClient   *http.Client
	Timeout      time.Duration
	OrgID        string
	Hooks        *hooks.Hooks
	RefreshAhead time.Duration
	ExpiryMargin time.Duration
}

// TokenSource returns a caching token source; see Config.TokenSource.
func (c ClientCredentialsConfig) TokenSource(ctx context.Context) *TokenSource {
	return c.settings().tokenSource(ctx, c.grant)
}

// Client returns an *http.Client that sends the machine user's token; see Config.Client.
func (c ClientCredentialsConfig) Client(ctx context.Context) *http.Client {
	return c.TokenSource(ctx).Client()
}

// Token makes one token request, without caching; see Config.Token.
func (c ClientCredentialsConfig) Token(ctx context.Context) (*oauth2.Token, error) {
	return c.settings().token(ctx, c.grant)
}

// Validate reports the first problem that would keep the config from working.
func (c ClientCredentialsConfig) Validate() error {
	_, _, err := c.settings().grant(c.grant)
	return err
}

func (c ClientCredentialsConfig) settings() settings {
	return settings{config: "ClientCredentialsConfig", issuer: c.Issuer, tokenURL: c.TokenURL, scopes: c.Scopes,
		client: c.HTTPClient, timeout: c.Timeout, orgID: c.OrgID, route: c.Route, hooks: (*hookSet)(c.Hooks),
		timing: cache.Timing{Ahead: c.RefreshAhead, Margin: c.ExpiryMargin}}
}

func (c ClientCredentialsConfig) grant() (grant, error) {
	switch {
	case c.ClientID == "":
		return nil, c.settings().configError("ClientID", "missing (the machine user's login name)")
	case c.ClientSecret == nil:
		return nil, c.secretError("")
	}
	use := newCredentialUse(c.ClientSecret, c.ClientSecret.CurrentSecret, nil, (*hookSet)(c.Hooks))
	g := &secretGrant{id: c.ClientID, current: use.take, changed: use.changed, check: c.secretError}
	if _, err := g.secret(context.Background()); err != nil {
		return nil, err
	}
	return g, nil
}

// secretError reports a missing secret, or nil.
func (c ClientCredentialsConfig) secretError(secret Secret) error {
	if secret == "" {
		return c.settings().configError("ClientSecret", "missing")
	}
	return nil
}

// grantTypeClientCredentials is OAuth 2.0's client credentials grant.
const grantTypeClientCredentials = "client_credentials"

// secretGrant is the client_credentials grant. It authenticates with HTTP
// Basic, as ZITADEL expects, never also with form fields.
type secretGrant struct {
	id      string
	current func(context.Context) (Secret, error)
	changed func() bool // reports a secret the last request did not use
	check   func(Secret) error
}

func (g *secretGrant) tokenRequest(ctx context.Context, _ *discovery.Endpoints, _ time.Time) (exchange.Request, error) {
	secret, err := g.secret(ctx)
	if err != nil {
		return exchange.Request{}, err
	}
	form := url.Values{"grant_type": {grantTypeClientCredentials}}
	return exchange.Request{Form: form, BasicUser: g.id, BasicPassword: secret,
		Secrets: []string{secret, url.QueryEscape(secret)}}, nil
}

// secret returns the current secret, checked.
func (g *secretGrant) secret(ctx context.Context) (string, error) {
	secret, err := g.current(ctx)
	if err == nil {
		err = g.check(secret)
	}
	return string(secret), err
}

// credentialChanged reports a secret the last request did not use.
func (g *secretGrant) credentialChanged() bool { return g.changed() }
