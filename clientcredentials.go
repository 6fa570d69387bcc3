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
	// Issuer, Scopes, TokenURL, HTTPClient, Timeout, OrgID, Address,
	// InsecureAllowPlainHTTP, Header, Hooks, RefreshAhead and ExpiryMargin
	// mean what they mean in Config.
	Issuer                 string
	Scopes                 []string
	TokenURL               string
	HTTPClient             *http.Client
	Timeout                time.Duration
	OrgID                  string
	Address                string
	InsecureAllowPlainHTTP bool
	Header                 http.Header
	Hooks                  *Hooks
	RefreshAhead           time.Duration
	ExpiryMargin           time.Duration
}

// GrantTypeClientCredentials is the OAuth 2.0 client credentials grant.
const GrantTypeClientCredentials = "client_credentials"

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
	_, err := c.settings().grant(c.grant)
	return err
}

func (c ClientCredentialsConfig) settings() settings {
	return settings{config: "ClientCredentialsConfig", issuer: c.Issuer, tokenURL: c.TokenURL, scopes: c.Scopes,
		client: c.HTTPClient, timeout: c.Timeout, orgID: c.OrgID,
		address: c.Address, header: c.Header, allowPlainHTTP: c.InsecureAllowPlainHTTP, hooks: c.Hooks,
		timing: timing{ahead: c.RefreshAhead, margin: c.ExpiryMargin}}
}

func (c ClientCredentialsConfig) grant() (grant, error) {
	switch {
	case c.ClientID == "":
		return nil, c.settings().configError("ClientID", "missing (the machine user's login name)")
	case c.ClientSecret == "":
		return nil, c.settings().configError("ClientSecret", "missing")
	}
	return secretGrant{id: c.ClientID, secret: string(c.ClientSecret)}, nil
}

// secretGrant is the client_credentials grant. It authenticates with HTTP
// Basic, as ZITADEL expects, never also with form fields.
type secretGrant struct{ id, secret string }

func (g secretGrant) tokenRequest(*Endpoints, time.Time) (tokenRequest, error) {
	form := url.Values{"grant_type": {GrantTypeClientCredentials}}
	return tokenRequest{form: form, basicUser: g.id, basicPassword: g.secret,
		secrets: []string{g.secret, url.QueryEscape(g.secret)}}, nil
}
