package serviceuser

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/internal/assertion"
	"github.com/go-serviceuser/serviceuser/internal/cache"
	"github.com/go-serviceuser/serviceuser/internal/discovery"
	"github.com/go-serviceuser/serviceuser/internal/exchange"
)

// Config obtains tokens for a service user with its key, by the JWT bearer
// grant (RFC 7523 section 2.1). Its zero value is not usable: Key and Issuer
// are required.
type Config struct {
	// Key supplies the service user's key, of type "serviceaccount": a
	// *KeyFile (see ReadKeyFile, ParseKeyFile, KeyFileFromEnv, NewSignerKey)
	// is a key that never changes; a *filewatch.KeySource (a key file read
	// again when it changes), or a source of your own, may hand out a new
	// key under a running token source (rotation), which the next token
	// request uses (see RotatingSource).
	// It is asked before every token request, and once when the token
	// source is made, to check the key.
	Key KeySource

	// Issuer is the ZITADEL instance, such as "https://my-instance.zitadel.cloud":
	// its public identity, even when requests go to Route.Address. A
	// trailing slash is removed: the assertion's audience must equal the
	// issuer exactly. It must be https, or http to a loopback host, unless
	// Route.InsecureAllowPlainHTTP is set.
	Issuer string

	// Route is how requests reach the issuer when not straight at its URL:
	// an in-cluster address, extra headers, plain http (see Route).
	Route Route

	// Hooks, when set, are called as the source works (see Hooks).
	Hooks *hooks.Hooks

	// RefreshAhead is how long before a token stops being served its
	// background refresh starts, like x/oauth2's ReuseTokenSourceWithExpiry
	// and AWS's ExpiryWindow. Zero: 15–25 % of the token's lifetime, jittered
	// so that a fleet does not refresh in step (wider for a source's first
	// token), and at least 30 s, at most a third of the token's service
	// time (a 1-minute token: 18 s), so that a short-lived token's refresh
	// has room for several requests. A set value is used as is, capped at
	// half the token's remaining service time. It is never negative. Failed
	// refreshes are retried sooner as the token's end nears (see
	// TokenSource).
	RefreshAhead time.Duration

	// ExpiryMargin is how long before its expiry a token stops being served,
	// for clocks and requests in flight. Zero: 10 s, at most a tenth of the
	// token's lifetime. A set value is capped at half the token's lifetime.
	// It is never negative.
	ExpiryMargin time.Duration

	// Scopes to request; DefaultScopes() when empty. Add scope.ZitadelAPI
	// (package github.com/go-serviceuser/serviceuser/scope) to call
	// ZITADEL's own APIs.
	Scopes []string

	// TokenURL, when set, is used instead of the token endpoint named by the
	// issuer's discovery document, and discovery is skipped.
	TokenURL string

	// HTTPClient has two roles: it sends the token requests (redirects are
	// never followed there), and its Transport is the base of the clients
	// Client returns. When nil, the ctx given to TokenSource, Client or Token
	// may carry one under oauth2.HTTPClient; otherwise the library uses a
	// transport of its own for token requests, closed by TokenSource.Close,
	// and http.DefaultTransport for API requests.
	HTTPClient *http.Client

	// Timeout bounds each request to ZITADEL; DefaultTimeout when zero,
	// and never negative. A refresh's request made while a valid token is
	// served also ends halfway to that token's end (at its end when under
	// 2 s are left), if that comes first, so that another request fits. It
	// also bounds the quick retries of a refresh
	// that callers wait for (no valid token is cached): none starts once
	// Timeout has passed since the refresh began, and the callers then get
	// its error while the source backs off, unless their context's deadline
	// leaves room for the next request, due within 10 s (see TokenSource).
	// The requests of the last retry have their own Timeout, so a caller's
	// wait is best bounded by its context (TokenSource.TokenContext).
	Timeout time.Duration

	// AssertionLifetime is how long each signed assertion is valid: one
	// hour (the longest ZITADEL documents) when zero; a set value must be
	// from two minutes to one hour.
	AssertionLifetime time.Duration

	// OrgID, when set, is sent as the x-zitadel-orgid header by Client, so that
	// ZITADEL API calls act on that organization instead of the user's own.
	OrgID string
}

// TokenSource returns a caching, self-refreshing token source for the service
// user. ctx only supplies values (an *http.Client under oauth2.HTTPClient, as
// in x/oauth2); cancelling it does not stop the source: Close does. A nil ctx
// means context.Background(). A Config that cannot work yields a source whose
// every call returns a *ConfigError without any request; Validate checks ahead.
func (c Config) TokenSource(ctx context.Context) *TokenSource {
	return c.settings().tokenSource(ctx, c.grant)
}

// Client returns an *http.Client that sends the service user's token with
// every request; it is c.TokenSource(ctx).Client(). Use it for a client that
// lives as long as the program. To share one cache between a token source and
// a client, or to close the source, make the source and call its Client.
func (c Config) Client(ctx context.Context) *http.Client {
	return c.TokenSource(ctx).Client()
}

// Token makes one token request, without caching: for tools that need one
// token. ctx bounds the call (and Timeout each request to ZITADEL): when it
// ends, Token returns its error at once, even while a signer (NewSignerKey)
// or a KeySource of your own is still working, and sends no request afterwards.
func (c Config) Token(ctx context.Context) (*oauth2.Token, error) {
	return c.settings().token(ctx, c.grant)
}

// Validate reports the first problem that would keep the Config from working.
func (c Config) Validate() error {
	_, _, err := c.settings().grant(c.grant)
	return err
}

func (c Config) settings() settings {
	return settings{config: "Config", issuer: c.Issuer, tokenURL: c.TokenURL, scopes: c.Scopes,
		client: c.HTTPClient, timeout: c.Timeout, orgID: c.OrgID, route: c.Route, hooks: (*hookSet)(c.Hooks),
		timing: cache.Timing{Ahead: c.RefreshAhead, Margin: c.ExpiryMargin}}
}

// grant checks the key and builds its signer, once per key for all token
// requests.
func (c Config) grant() (grant, error) {
	if c.Key == nil {
		return nil, c.keyError(nil)
	}
	if _, err := assertion.Lifetime(c.AssertionLifetime); err != nil {
		return nil, c.settings().fieldError("AssertionLifetime", err)
	}
	use := newCredentialUse(c.Key, c.Key.CurrentKey, keyID, (*hookSet)(c.Hooks))
	g := &keyGrant{current: use.take, changed: use.changed, lifetime: c.AssertionLifetime, check: c.keyError}
	if _, _, err := g.keyAndSigner(context.Background()); err != nil {
		return nil, err
	}
	return g, nil
}

// keyError reports a key that cannot obtain tokens, or nil.
func (c Config) keyError(key *KeyFile) error {
	switch {
	case key == nil || key.signer() == nil:
		return c.settings().configError("Key", "missing (use ReadKeyFile, ParseKeyFile, KeyFileFromEnv or filewatch.NewKeySource)")
	case key.Type != KeyTypeServiceAccount:
		return c.settings().configError("Key", fmt.Sprintf("a key of type %q cannot obtain tokens; use a service user key (%q)", key.Type, KeyTypeServiceAccount))
	}
	return nil
}

// keyID names key in events; a source may hand out none.
func keyID(key *KeyFile) string {
	if key == nil {
		return ""
	}
	return key.KeyID
}

// grantTypeJWTBearer is RFC 7523 section 2.1's JWT bearer grant (the similar
// "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" is not a grant
// type).
const grantTypeJWTBearer = assertion.GrantType

// keyGrant is the JWT bearer grant: a fresh assertion for every request,
// signed with the source's current key.
type keyGrant struct {
	current  func(context.Context) (*KeyFile, error)
	changed  func() bool // reports a key the last request did not use
	lifetime time.Duration
	check    func(*KeyFile) error

	mu     sync.Mutex
	key    *KeyFile // the key signer was built for
	signer *assertionSigner
}

func (g *keyGrant) tokenRequest(ctx context.Context, ep *discovery.Endpoints, now time.Time) (exchange.Request, error) {
	key, signer, err := g.keyAndSigner(ctx)
	if err != nil {
		return exchange.Request{}, err
	}
	if err := key.CheckExpiry(now); err != nil {
		return exchange.Request{}, err
	}
	assertion, err := signer.sign(ep.Issuer, now)
	if err != nil {
		return exchange.Request{}, err
	}
	form := url.Values{"grant_type": {grantTypeJWTBearer}, "assertion": {assertion}}
	return exchange.Request{Form: form, Secrets: []string{assertion}}, nil
}

// keyAndSigner returns the current key and its signer, built when the key
// is new.
func (g *keyGrant) keyAndSigner(ctx context.Context) (*KeyFile, *assertionSigner, error) {
	key, err := g.current(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := g.check(key); err != nil {
		return nil, nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if key != g.key {
		signer, err := newAssertionSigner(key, g.lifetime)
		if err != nil {
			return nil, nil, err
		}
		g.key, g.signer = key, signer
	}
	return g.key, g.signer, nil
}

// credentialChanged reports a key the last request did not use.
func (g *keyGrant) credentialChanged() bool { return g.changed() }
