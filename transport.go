package serviceuser

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

// Transport is an http.RoundTripper that sends a bearer token from Source
// with each request, like oauth2.Transport, with these differences:
//   - a token is sent only over https, or over http to a loopback host,
//     unless InsecureAllowPlainHTTPAnyHost is set (or, for a token source's
//     Client, its config's Route.InsecureAllowPlainHTTP, for ZITADEL's
//     origins);
//   - a redirect to another host gets no token;
//   - the request's context bounds the wait for a token, when Source is a
//     ContextTokenSource (as *TokenSource is);
//   - when the server answers 401 (the token was revoked, or is unknown to a
//     server whose clock runs ahead), RejectedError is returned if set;
//     otherwise, when Source is an Invalidator (as *TokenSource is), the token
//     is dropped, so that later requests get a new one, and the request is
//     sent once more with a new token if its body can be sent again (GetBody
//     or none).
//
// The two capabilities are Source's methods, so a source wrapped in another
// type (a metrics decorator, say) keeps them only if the wrapper forwards
// them: implement ContextTokenSource and Invalidator on the wrapper.
type Transport struct {
	// Source supplies tokens. Required.
	Source oauth2.TokenSource
	// Base sends the requests; http.DefaultTransport when nil.
	Base http.RoundTripper
	// OrgID, when set, is sent as the x-zitadel-orgid header, which makes
	// ZITADEL's APIs act on that organization.
	OrgID string
	// InsecureAllowPlainHTTPAnyHost lets tokens travel unencrypted to any
	// host, unlike Route.InsecureAllowPlainHTTP, which covers ZITADEL's
	// origins only. Anyone on the path can then steal them: use it only on
	// networks you control.
	InsecureAllowPlainHTTPAnyHost bool
	// RejectedError, when set, is returned for a 401 that blames the token,
	// instead of dropping it and retrying: for a token that cannot be
	// renewed, such as a personal access token (ErrPATRejected).
	RejectedError error
	// Hooks, when set, are told of every 401 that blames a token.
	Hooks *hooks.Hooks

	zitadel *route.Route // set by TokenSource.Client: the config's Route's opt-in covers ZITADEL's origins
}

// ContextTokenSource is a token source whose wait a context can bound: the
// context of the request a Transport sends.
type ContextTokenSource interface {
	oauth2.TokenSource
	TokenContext(ctx context.Context) (*oauth2.Token, error)
}

// Invalidator is a token source that can drop a token a server refused, so
// that the next call returns a new one. Invalidate must be a
// compare-and-invalidate: a newer token than tok is kept.
type Invalidator interface {
	Invalidate(tok *oauth2.Token)
}

// Client returns an *http.Client that sends this source's tokens with every
// request (see Transport), over the transport of the HTTP client of the config
// that made the source, with its OrgID, and by its Route for requests to the
// issuer's origin. Clients made
// this way share the source's cache; closing the source is up to its owner.
func (ts *TokenSource) Client() *http.Client {
	return &http.Client{Transport: &Transport{Source: ts, Base: ts.api.base, OrgID: ts.api.orgID,
		RejectedError: ts.api.rejected, Hooks: (*hooks.Hooks)(ts.api.hooks), zitadel: ts.api.zitadel}}
}

// HeaderOrgID selects the organization a ZITADEL API call acts on.
const HeaderOrgID = "x-zitadel-orgid"

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
	_, dropped := t.Source.(Invalidator)
	t.tokenRejected(req, hooks.TokenRejectedInfo{Dropped: dropped, Retried: out != resp})
	return out, nil
}

// tokenRejected tells Hooks of a 401 to req, with req's context and, when
// Source is a *TokenSource, that source (see SourceFromContext).
func (t *Transport) tokenRejected(req *http.Request, i hooks.TokenRejectedInfo) {
	if t.Hooks == nil || t.Hooks.TokenRejected == nil {
		return
	}
	ctx := req.Context()
	if ts, ok := t.Source.(*TokenSource); ok {
		ctx = context.WithValue(ctx, sourceKey{}, ts)
	}
	contain.Hook(t.Hooks.TokenRejected, ctx, i)
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
	inv, ok := t.Source.(Invalidator)
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
		return nil, errors.New("serviceuser: Transport.Source is nil")
	}
	if !t.InsecureAllowPlainHTTPAnyHost && !t.zitadel.AllowsPlainHTTP(req.URL) && req.URL.Scheme != "https" && !urlpolicy.IsLoopback(req.URL.Hostname()) {
		return nil, fmt.Errorf("%w to %s (use https; on a network you control, set the config's Route.InsecureAllowPlainHTTP for ZITADEL, or Transport.InsecureAllowPlainHTTPAnyHost)", ErrInsecureURL, req.URL.Host)
	}
	if cts, ok := t.Source.(ContextTokenSource); ok {
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

// Format describes the transport, for every verb, by the types of its Source
// and Base: a token source's fields may hold a token, which %s and %q would
// print.
func (t Transport) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, fmt.Sprintf("serviceuser.Transport{Source: %T, Base: %T, OrgID: %q, InsecureAllowPlainHTTPAnyHost: %t}",
		t.Source, t.Base, t.OrgID, t.InsecureAllowPlainHTTPAnyHost))
}
