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
	"time"

	"golang.org/x/oauth2"
)

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

	// OrgID, when set, is sent as the x-zitadel-orgid header by Client, so that
	// ZITADEL API calls act on that organization instead of the user's own.
	OrgID string

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
// HTTPClient is nil, may carry an *http.Client under oauth2.HTTPClient. A
// nil ctx means context.Background().
// A Config that cannot work yields a source whose every call returns a
// *ConfigError, without any request; call Validate to check ahead.
func (c Config) TokenSource(ctx context.Context) *TokenSource {
	fetch, conn := c.fetcher(ctx)
	ts := newTokenSource(ctx, fetch, c.now)
	ts.closeIdle = conn.closeIdle
	return ts
}

// Client returns an *http.Client that sends the service user's token with
// every request (see Transport), and OrgID, if set, as x-zitadel-orgid.
func (c Config) Client(ctx context.Context) *http.Client {
	return newClient(ctx, c.TokenSource(ctx), c.HTTPClient, c.OrgID)
}

// Validate reports the first problem that would keep the Config from working.
func (c Config) Validate() error {
	if c.Key == nil || c.Key.signer() == nil {
		return &ConfigError{Field: "Key", Problem: "missing (use ReadKeyFile, ParseKeyFile or KeyFileFromEnv)"}
	}
	if c.Key.Type != KeyTypeServiceAccount {
		return &ConfigError{Field: "Key", Problem: fmt.Sprintf("a key of type %q cannot obtain tokens; use a service user key (%q)", c.Key.Type, KeyTypeServiceAccount)}
	}
	return c.endpoint().validate()
}

func (c Config) endpoint() endpoint {
	return endpoint{issuer: c.Issuer, tokenURL: c.TokenURL, scopes: c.Scopes, client: c.HTTPClient, timeout: c.Timeout, now: c.now}
}

// fetcher builds what one refresh does: sign a fresh assertion and exchange
// it at the token endpoint. It also returns the connection the refreshes
// use, nil for a Config that cannot work.
func (c Config) fetcher(ctx context.Context) (fetchFunc, *connection) {
	if err := c.Validate(); err != nil {
		return failing(err), nil
	}
	signer, err := newAssertionSigner(c.Key, c.AssertionLifetime)
	if err != nil {
		return failing(err), nil
	}
	conn := c.endpoint().connect(ctx)
	key := c.Key
	return func(ctx context.Context) (*oauth2.Token, error) {
		if err := key.CheckExpiry(conn.now()); err != nil {
			return nil, err
		}
		ep, err := conn.endpoints(ctx)
		if err != nil {
			return nil, err
		}
		assertion, err := signer.sign(ep.Issuer, conn.now())
		if err != nil {
			return nil, err
		}
		form := url.Values{"grant_type": {GrantTypeJWTBearer}, "assertion": {assertion}, "scope": {conn.scope}}
		return conn.call.exchange(ctx, tokenRequest{url: ep.TokenURL, form: form, secrets: []string{assertion}}, conn.now)
	}, conn
}

// failing is a fetchFunc for a configuration that cannot work.
func failing(err error) fetchFunc {
	return func(context.Context) (*oauth2.Token, error) { return nil, err }
}
