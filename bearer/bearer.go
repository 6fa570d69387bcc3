// Package bearer sends the tokens of any oauth2.TokenSource with HTTP
// requests: [Transport] is the RoundTripper under a
// serviceuser.TokenSource's Client, for a source that is not one, such as
// a decorator around it (for metrics, say) or a source of your own:
//
//	client := &http.Client{Transport: &bearer.Transport{Source: metered{ts}}}
//
// The module github.com/go-serviceuser/serviceuser/grpcauth does the same
// for gRPC.
package bearer

import (
	"context"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/internal/bearer"
)

// HeaderOrgID selects the organization a ZITADEL API call acts on; its
// value is "x-zitadel-orgid".
const HeaderOrgID = bearer.HeaderOrgID

// Transport is an http.RoundTripper that sends a bearer token from Source
// with each request, like oauth2.Transport, with these differences:
//   - a token is sent only over https, or over http to a loopback host,
//     unless InsecureAllowPlainHTTPAnyHost is set (a serviceuser.TokenSource's
//     Client also follows its config's Route.InsecureAllowPlainHTTP, for
//     ZITADEL's origins);
//   - a redirect to another host gets no token;
//   - the request's context bounds the wait for a token, when Source is a
//     ContextTokenSource (as *serviceuser.TokenSource is);
//   - when the server answers 401 (the token was revoked, or is unknown to a
//     server whose clock runs ahead) and Source is an Invalidator (as
//     *serviceuser.TokenSource is), the token is dropped, so that later
//     requests get a new one, and the request is sent once more with a new
//     token if its body can be sent again (GetBody or none).
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
	// host. Anyone on the path can then steal them: use it only on networks
	// you control.
	InsecureAllowPlainHTTPAnyHost bool
	// Hooks, when set, are told of every 401 that blames a token; the
	// callback's context carries Source (see serviceuser.SourceFromContext).
	Hooks *hooks.Hooks
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

// RoundTrip sends req with an Authorization header. It does not modify req.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	e := t.engine()
	return e.RoundTrip(req)
}

// engine is t as the library's RoundTripper.
func (t *Transport) engine() bearer.Transport {
	return bearer.Transport{Source: t.Source, Base: t.Base, OrgID: t.OrgID,
		InsecureAllowPlainHTTPAnyHost: t.InsecureAllowPlainHTTPAnyHost, Hooks: t.Hooks}
}

// Format describes the transport, for every verb, by the types of its Source
// and Base: a token source's fields may hold a token, which %s and %q would
// print.
func (t Transport) Format(f fmt.State, verb rune) { t.engine().Format(f, verb) }
