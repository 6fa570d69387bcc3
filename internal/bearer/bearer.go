// Package bearer sends a bearer token from a token source with each
// request: the RoundTripper of package github.com/go-serviceuser/serviceuser/bearer
// and of a serviceuser.TokenSource's Client, which also sets what only the
// library knows of its own sources (the config's route, the error for a
// token that cannot be renewed).
package bearer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/internal/contain"
	"github.com/go-serviceuser/serviceuser/internal/redact"
	"github.com/go-serviceuser/serviceuser/internal/route"
	"github.com/go-serviceuser/serviceuser/internal/urlpolicy"
)

// HeaderOrgID selects the organization a ZITADEL API call acts on.
const HeaderOrgID = "x-zitadel-orgid"

// SourceKey is the context key under which a TokenRejected callback finds
// the Source of the Transport that sent the token (see
// serviceuser.SourceFromContext).
type SourceKey struct{}

// Transport is the RoundTripper; see bearer.Transport for what it does.
type Transport struct {
	Source                        oauth2.TokenSource
	Base                          http.RoundTripper
	OrgID                         string
	InsecureAllowPlainHTTPAnyHost bool
	Hooks                         *hooks.Hooks
	// RejectedError, when set, is returned for a 401 that blames the token,
	// instead of dropping it and retrying: for a token that cannot be
	// renewed, such as a personal access token.
	RejectedError error
	// Zitadel is the config's route to ZITADEL, or nil: its
	// InsecureAllowPlainHTTP covers ZITADEL's origins.
	Zitadel *route.Route
}

// contextSource is a token source whose wait a context can bound.
type contextSource interface {
	TokenContext(ctx context.Context) (*oauth2.Token, error)
}

// invalidator is a token source that can drop a token a server refused.
type invalidator interface {
	Invalidate(tok *oauth2.Token)
}

// RoundTrip sends req with an Authorization header. It does not modify req.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if redirectedToOtherHost(req) {
		return t.base().RoundTrip(req)
	}
	tok, err := t.authorize(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.send(req.Clone(req.Context()), tok)
	if err != nil || !tokenRejected(resp) {
		return resp, err
	}
	if t.RejectedError != nil {
		discard(resp)
		t.tokenRejected(req, hooks.TokenRejectedInfo{})
		return nil, t.RejectedError
	}
	out := t.retryWithNewToken(req, tok, resp)
	_, dropped := t.Source.(invalidator)
	t.tokenRejected(req, hooks.TokenRejectedInfo{InvalidateCalled: dropped, Retried: out != resp})
	return out, nil
}

// tokenRejected tells Hooks of a 401 to req, with req's context and, under
// SourceKey, the Source.
func (t *Transport) tokenRejected(req *http.Request, i hooks.TokenRejectedInfo) {
	if t.Hooks == nil || t.Hooks.TokenRejected == nil {
		return
	}
	contain.Hook(t.Hooks.TokenRejected, context.WithValue(req.Context(), SourceKey{}, t.Source), i)
}

// send sends r, which the caller owns, with tok.
func (t *Transport) send(r *http.Request, tok *oauth2.Token) (*http.Response, error) {
	r.Header.Set("Authorization", tok.Type()+" "+tok.AccessToken)
	if t.OrgID != "" {
		r.Header.Set(HeaderOrgID, t.OrgID)
	}
	resp, err := t.base().RoundTrip(r)
	if resp != nil && resp.Request == nil {
		resp.Request = r // as http.Transport does: callers learn what was sent (userinfo.Fetch redacts its token)
	}
	return resp, err
}

// retryWithNewToken drops rejected and sends req once more with a newer token.
// Whenever that cannot be done, the server's 401 response is returned as is.
func (t *Transport) retryWithNewToken(req *http.Request, rejected *oauth2.Token, resp *http.Response) *http.Response {
	inv, ok := t.Source.(invalidator)
	if !ok {
		return resp
	}
	inv.Invalidate(rejected) // even when req cannot be replayed: the next request must not carry it
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp
	}
	tok, err := t.authorize(req)
	if err != nil || tok.AccessToken == rejected.AccessToken {
		return resp
	}
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		if retry.Body, err = req.GetBody(); err != nil {
			return resp
		}
	}
	newResp, err := t.send(retry, tok)
	if err != nil {
		return resp
	}
	discard(resp)
	return newResp
}

// tokenRejected reports a 401 that blames the token (RFC 6750's
// invalid_token, or no error given), as opposed to, say, a malformed request.
func tokenRejected(resp *http.Response) bool {
	if resp.StatusCode != http.StatusUnauthorized {
		return false
	}
	challenge := resp.Header.Get("WWW-Authenticate")
	return !strings.Contains(challenge, "error=") || strings.Contains(challenge, "invalid_token")
}

// discard drains a little of body, so the connection can be reused, and closes it.
func discard(resp *http.Response) {
	io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}

// authorize checks that req may carry a token and returns one.
func (t *Transport) authorize(req *http.Request) (*oauth2.Token, error) {
	if t.Source == nil {
		return nil, errors.New("serviceuser: bearer.Transport.Source is nil")
	}
	if !t.InsecureAllowPlainHTTPAnyHost && !t.Zitadel.AllowsPlainHTTP(req.URL) && req.URL.Scheme != "https" && !urlpolicy.IsLoopback(req.URL.Hostname()) {
		return nil, fmt.Errorf("%w to %s (use https; on a network you control, set the config's Route.InsecureAllowPlainHTTP for ZITADEL, or bearer.Transport.InsecureAllowPlainHTTPAnyHost)", urlpolicy.ErrInsecureURL, req.URL.Host)
	}
	if cts, ok := t.Source.(contextSource); ok {
		return cts.TokenContext(req.Context())
	}
	return t.Source.Token()
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// redirectedToOtherHost reports whether req follows a redirect away from the
// host the original request went to: the token stays with that host.
func redirectedToOtherHost(req *http.Request) bool {
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	return first != req && !sameOrigin(first.URL, req.URL)
}

func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && a.Host == b.Host
}

// closeBody honours RoundTrip's contract to close the body even on error.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// Format describes the transport, for every verb, by the types of its
// Source and Base: a token source's fields may hold a token, which %s and
// %q would print.
func (t Transport) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, fmt.Sprintf("bearer.Transport{Source: %T, Base: %T, OrgID: %q, InsecureAllowPlainHTTPAnyHost: %t}",
		t.Source, t.Base, t.OrgID, t.InsecureAllowPlainHTTPAnyHost))
}
