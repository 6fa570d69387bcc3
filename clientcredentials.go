package serviceuser

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// ClientCredentialsConfig obtains tokens for a machine user that has a client
// secret instead of a key, with the OAuth 2.0 client_credentials grant. The
// token source it returns caches, refreshes and retries exactly like
// Config's.
type ClientCredentialsConfig struct {
	// ClientID is the machine user's login name.
	ClientID string
	// ClientSecret is the secret ZITADEL generated for the machine user.
	ClientSecret Secret
	// Issuer, Scopes, TokenURL, HTTPClient, Timeout and OrgID mean what they
	// mean in Config.
	Issuer     string
	Scopes     []string
	TokenURL   string
	HTTPClient *http.Client
	Timeout    time.Duration
	OrgID      string

	now func() time.Time
}

// GrantTypeClientCredentials is the OAuth 2.0 client credentials grant.
const GrantTypeClientCredentials = "client_credentials"

// TokenSource returns a caching token source; see Config.TokenSource.
func (c ClientCredentialsConfig) TokenSource(ctx context.Context) *TokenSource {
	fetch, conn := c.fetcher(ctx)
	ts := newTokenSource(ctx, fetch, c.now)
	ts.closeIdle = conn.closeIdle
	return ts
}

// Client returns an *http.Client that sends the machine user's token; see Config.Client.
func (c ClientCredentialsConfig) Client(ctx context.Context) *http.Client {
	return newClient(ctx, c.TokenSource(ctx), c.HTTPClient, c.OrgID)
}

// Validate reports the first problem that would keep the config from working.
func (c ClientCredentialsConfig) Validate() error {
	switch {
	case c.ClientID == "":
		return &ConfigError{Field: "ClientID", Problem: "missing (the machine user's login name)"}
	case c.ClientSecret == "":
		return &ConfigError{Field: "ClientSecret", Problem: "missing"}
	}
	return c.endpoint().validate()
}

func (c ClientCredentialsConfig) endpoint() endpoint {
	return endpoint{issuer: c.Issuer, tokenURL: c.TokenURL, scopes: c.Scopes, client: c.HTTPClient, timeout: c.Timeout, now: c.now}
}

// fetcher authenticates with HTTP Basic, as ZITADEL expects, never also with
// form fields. Like Config.fetcher, it also returns the connection.
func (c ClientCredentialsConfig) fetcher(ctx context.Context) (fetchFunc, *connection) {
	if err := c.Validate(); err != nil {
		return failing(err), nil
	}
	conn := c.endpoint().connect(ctx)
	id, secret := c.ClientID, string(c.ClientSecret)
	return func(ctx context.Context) (*oauth2.Token, error) {
		ep, err := conn.endpoints(ctx)
		if err != nil {
			return nil, err
		}
		form := url.Values{"grant_type": {GrantTypeClientCredentials}, "scope": {conn.scope}}
		req := tokenRequest{url: ep.TokenURL, form: form, basicUser: id, basicPassword: secret, secrets: []string{secret, url.QueryEscape(secret)}}
		return conn.call.exchange(ctx, req, conn.now)
	}, conn
}
