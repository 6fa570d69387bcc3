package serviceuser

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// endpoint holds the settings every kind of config shares: where ZITADEL is,
// what to ask for and how to reach it.
type endpoint struct {
	issuer, tokenURL string
	scopes           []string
	client           *http.Client
	timeout          time.Duration
	now              func() time.Time
}

// connection is a validated endpoint, ready for requests.
type connection struct {
	call      *caller
	endpoints func(context.Context) (*Endpoints, error)
	scope     string
	now       func() time.Time
}

// closeIdle closes the keep-alive connections of the transport the library
// made for conn, if any; conn may be nil.
func (conn *connection) closeIdle() {
	if conn != nil {
		conn.call.closeIdle()
	}
}

func (e endpoint) validate() error {
	if _, err := normalizeIssuer(e.issuer); err != nil {
		return err
	}
	if e.tokenURL != "" {
		if err := checkSecureURL(e.tokenURL); err != nil {
			return &ConfigError{Field: "TokenURL", Problem: err.Error()}
		}
	}
	return checkScopes(e.scopes)
}

// connect builds the connection; call validate first.
func (e endpoint) connect(ctx context.Context) *connection {
	issuer, _ := normalizeIssuer(e.issuer)
	now := e.now
	if now == nil {
		now = time.Now
	}
	call := newOwnCaller(contextClient(ctx, e.client), e.timeout)
	conn := &connection{call: call, scope: scopeString(e.scopes), now: now}
	if e.tokenURL != "" {
		ep := &Endpoints{Issuer: issuer, TokenURL: e.tokenURL}
		conn.endpoints = func(context.Context) (*Endpoints, error) { return ep, nil }
	} else {
		conn.endpoints = newDiscovery(call, issuer).endpoints
	}
	return conn
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

func scopeString(scopes []string) string {
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	return strings.Join(scopes, " ")
}

// contextClient returns client, or the one ctx carries under oauth2.HTTPClient,
// or nil. A nil ctx carries nothing, as in x/oauth2.
func contextClient(ctx context.Context, client *http.Client) *http.Client {
	if client != nil || ctx == nil {
		return client
	}
	if c, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok {
		return c
	}
	return nil
}

// newClient returns an *http.Client sending tokens from src over the
// transport of base (or the one ctx carries), with orgID as x-zitadel-orgid.
func newClient(ctx context.Context, src oauth2.TokenSource, base *http.Client, orgID string) *http.Client {
	var rt http.RoundTripper
	if hc := contextClient(ctx, base); hc != nil {
		rt = hc.Transport
	}
	return &http.Client{Transport: &Transport{Source: src, Base: rt, OrgID: orgID}}
}
