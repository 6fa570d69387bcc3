// Package serviceuser authenticates a backend service to ZITADEL as a service
// user (machine user) with the JWT bearer grant of RFC 7523.
//
// A service user's key file is turned into a caching, self-refreshing
// oauth2.TokenSource, and into an *http.Client that sends the token:
//
//	key, err := serviceuser.ReadKeyFile("key.json")
//	if err != nil { ... }
//	cfg := serviceuser.Config{
//		Key:    key,
//		Issuer: "https://my-instance.zitadel.cloud",
//		Scopes: []string{"openid", serviceuser.ScopeZitadelAPI},
//	}
//	client := cfg.Client(ctx)
//	resp, err := client.Get("https://my-instance.zitadel.cloud/oidc/v1/userinfo")
//
// For each token request a fresh assertion is signed with the key; the token
// is cached and refreshed in the background before it expires. Nothing this
// package prints, logs or returns as an error contains the private key, an
// assertion or a token.
//
// Package serviceusertest provides a local fake ZITADEL for tests.
package serviceuser

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// ScopeZitadelAPI puts the ZITADEL APIs (Management, Admin, Auth, v2) into the
// token's audience; calling them requires it.
const ScopeZitadelAPI = "urn:zitadel:iam:org:project:id:zitadel:aud"

// DefaultScopes are requested when Config.Scopes is empty: ZITADEL requires at least one.
var DefaultScopes = []string{"openid"}

// Config describes how to obtain tokens for a service user. Its zero value is
// not usable: Key and Issuer are required.
type Config struct {
	// Key is the service user's key file (see ReadKeyFile, ParseKeyFile,
	// KeyFileFromEnv). It must be of type "serviceaccount".
	Key *KeyFile

	// Issuer is the ZITADEL instance, such as "https://my-instance.zitadel.cloud".
	// A trailing slash is removed: the assertion's audience must equal the
	// issuer exactly. It must be https, or http to a loopback host.
	Issuer string

	// Scopes to request; DefaultScopes when empty. Add ScopeZitadelAPI to call
	// ZITADEL's own APIs.
	Scopes []string

	// TokenURL, when set, is used instead of the token endpoint named by the
	// issuer's discovery document, and discovery is skipped.
	TokenURL string

	// HTTPClient sends the token requests; nil means a client of this package's
	// own. Redirects are never followed for token requests.
	HTTPClient *http.Client

	// Timeout bounds each request to ZITADEL; DefaultTimeout when zero.
	Timeout time.Duration

	// AssertionLifetime is how long each signed assertion is valid:
	// MaxAssertionLifetime (one hour) when zero, and at least two minutes.
	AssertionLifetime time.Duration

	// now replaces the clock in tests.
	now func() time.Time
}

// ConfigError reports a Config that cannot work.
type ConfigError struct {
	// Field is the Config field at fault.
	Field string
	// Problem says what is wrong.
	Problem string
}

func (e *ConfigError) Error() string {
	return "serviceuser: Config." + e.Field + ": " + e.Problem
}

// Permanent is true: a configuration error needs a change of configuration.
func (e *ConfigError) Permanent() bool { return true }

// TokenSource returns a caching token source for the service user. ctx
// bounds the source's background work (as does its Close method) and, when
// HTTPClient is nil, may carry an *http.Client under oauth2.HTTPClient.
// A Config that cannot work yields a source whose every call returns a
// *ConfigError, without any request; call Validate to check ahead.
func (c Config) TokenSource(ctx context.Context) *TokenSource {
	return newTokenSource(ctx, c.fetcher(ctx), c.now)
}

// Client returns an *http.Client that sends the service user's token with
// every request (see Transport). The client refuses to send a token over
// plain http except to loopback hosts.
func (c Config) Client(ctx context.Context) *http.Client {
	var base http.RoundTripper
	if hc := contextClient(ctx, c.HTTPClient); hc != nil {
		base = hc.Transport
	}
	return &http.Client{Transport: &Transport{Source: c.TokenSource(ctx), Base: base}}
}

// Validate reports the first problem that would keep the Config from working.
func (c Config) Validate() error {
	_, err := c.validated()
	return err
}

// validated returns the issuer, normalized, after checking every field.
func (c Config) validated() (string, error) {
	if c.Key == nil || c.Key.signer() == nil {
		return "", &ConfigError{Field: "Key", Problem: "missing (use ReadKeyFile, ParseKeyFile or KeyFileFromEnv)"}
	}
	if c.Key.Type != KeyTypeServiceAccount {
		return "", &ConfigError{Field: "Key", Problem: fmt.Sprintf("a key of type %q cannot obtain tokens; use a service user key (%q)", c.Key.Type, KeyTypeServiceAccount)}
	}
	issuer, err := normalizeIssuer(c.Issuer)
	if err != nil {
		return "", err
	}
	if c.TokenURL != "" {
		if err := checkSecureURL(c.TokenURL); err != nil {
			return "", &ConfigError{Field: "TokenURL", Problem: err.Error()}
		}
	}
	return issuer, checkScopes(c.Scopes)
}

// checkScopes refuses scopes that would change meaning once space-joined.
func checkScopes(scopes []string) error {
	for _, s := range scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			return &ConfigError{Field: "Scopes", Problem: fmt.Sprintf("scope %q is empty or contains white space; give one scope per element", s)}
		}
	}
	return nil
}

func (c Config) scopeString() string {
	if len(c.Scopes) == 0 {
		return strings.Join(DefaultScopes, " ")
	}
	return strings.Join(c.Scopes, " ")
}

// fetcher builds what one refresh does: sign a fresh assertion and exchange
// it at the token endpoint.
func (c Config) fetcher(ctx context.Context) fetchFunc {
	issuer, err := c.validated()
	if err != nil {
		return func(context.Context) (*oauth2.Token, error) { return nil, err }
	}
	signer, err := newAssertionSigner(c.Key, c.AssertionLifetime)
	if err != nil {
		return func(context.Context) (*oauth2.Token, error) { return nil, err }
	}
	now := c.now
	if now == nil {
		now = time.Now
	}
	call := newCaller(contextClient(ctx, c.HTTPClient), c.Timeout)
	endpoints := c.endpointSource(call, issuer)
	scope := c.scopeString()
	key := c.Key
	return func(ctx context.Context) (*oauth2.Token, error) {
		if key.Expired(now()) {
			return nil, fmt.Errorf("%w: key %s expired at %s", ErrKeyExpired, key.KeyID, key.ExpirationDate.Format(time.RFC3339))
		}
		ep, err := endpoints(ctx)
		if err != nil {
			return nil, err
		}
		assertion, err := signer.sign(ep.Issuer, now())
		if err != nil {
			return nil, err
		}
		form := url.Values{"grant_type": {GrantTypeJWTBearer}, "assertion": {assertion}, "scope": {scope}}
		return call.exchange(ctx, ep.TokenURL, form, now, assertion)
	}
}

// endpointSource returns the configured token URL, or discovers it once.
func (c Config) endpointSource(call *caller, issuer string) func(context.Context) (*Endpoints, error) {
	if c.TokenURL != "" {
		ep := &Endpoints{Issuer: issuer, TokenURL: c.TokenURL}
		return func(context.Context) (*Endpoints, error) { return ep, nil }
	}
	d := &discovery{caller: call, issuer: issuer}
	return d.endpoints
}

// contextClient returns client, or the one ctx carries under oauth2.HTTPClient,
// or nil.
func contextClient(ctx context.Context, client *http.Client) *http.Client {
	if client != nil {
		return client
	}
	if c, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok {
		return c
	}
	return nil
}
