package route

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// recorder is a base transport that keeps the requests it is given and
// answers each with 200, naming that request as the response's Request, as
// http.Transport does.
type recorder struct {
	mu   sync.Mutex
	seen []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, req)
	r.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

func (r *recorder) requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.seen...)
}

// send sends a GET of rawURL through rt and returns the response, body
// closed.
func send(t *testing.T, rt http.RoundTripper, rawURL string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

// TestTransportRewritesRequestsToIssuerOrigin: with Address, a request to
// the issuer's origin, however spelled, goes to the address, names the
// instance by HeaderInstanceHost and carries the extra headers, keeping its
// path, query, method and body.
func TestTransportRewritesRequestsToIssuerOrigin(t *testing.T) {
	r := mustParse(t, issuer+"/", Spec{Address: address + "/", Header: http.Header{"x-zitadel-public-host": {"auth.example.com"}},
		InsecureAllowPlainHTTP: true})
	base := &recorder{}
	rt := r.Transport(base)
	for _, u := range []string{issuer + "/oauth/v2/token?x=1", "HTTPS://AUTH.Example.com:443/oauth/v2/token?x=1", issuer + ":443/oauth/v2/token?x=1"} {
		req, err := http.NewRequest(http.MethodPost, u, strings.NewReader("grant=1"))
		require.NoError(t, err)
		req.Host = "override.example.com"
		resp, err := rt.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()

		seen := base.requests()
		out := seen[len(seen)-1]
		assert.Equal(t, address+"/oauth/v2/token?x=1", out.URL.String(), u)
		assert.Empty(t, out.Host, "%s: the Host header is the address's", u)
		assert.Equal(t, "auth.example.com", out.Header.Get(HeaderInstanceHost), u)
		assert.Equal(t, "auth.example.com", out.Header.Get("X-Zitadel-Public-Host"), u)
		assert.Equal(t, http.MethodPost, out.Method, u)
		body, err := io.ReadAll(out.Body)
		require.NoError(t, err)
		assert.Equal(t, "grant=1", string(body), u)
	}

	withPort := mustParse(t, "https://auth.example.com:8443", Spec{Address: address, InsecureAllowPlainHTTP: true})
	send(t, withPort.Transport(base), "https://auth.example.com:8443/x")
	seen := base.requests()
	assert.Equal(t, "auth.example.com:8443", seen[len(seen)-1].Header.Get(HeaderInstanceHost), "the instance host keeps the issuer's port")

	send(t, rt, address+"/direct")
	seen = base.requests()
	out := seen[len(seen)-1]
	assert.Equal(t, address+"/direct", out.URL.String(), "a request to the address's origin is ZITADEL's too")
	assert.Equal(t, "auth.example.com", out.Header.Get(HeaderInstanceHost))
	assert.Equal(t, "auth.example.com", out.Header.Get("X-Zitadel-Public-Host"))
}

// TestTransportLeavesOtherOriginsAlone: a request to another origin
// (another host, scheme or port, or the issuer's host under another
// scheme) reaches base as the very request given, with no extra header.
func TestTransportLeavesOtherOriginsAlone(t *testing.T) {
	r := mustParse(t, issuer, Spec{Address: "https://zitadel.internal", Header: http.Header{"X-A": {"b"}}})
	base := &recorder{}
	rt := r.Transport(base)
	for _, u := range []string{"https://api.example.com/v1", "http://auth.example.com/x", "https://auth.example.com:8443/x",
		"https://sub.auth.example.com/x", "https://zitadel.internal:444/x"} {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		resp, err := rt.RoundTrip(req)
		require.NoError(t, err)
		seen := base.requests()
		assert.Same(t, req, seen[len(seen)-1], u)
		assert.Same(t, req, resp.Request, u)
		assert.Empty(t, req.Header, u)
	}
}

// TestTransportHeaderWithoutAddress: extra headers alone reach requests to
// the issuer's origin, which stay where they were sent and name no
// instance.
func TestTransportHeaderWithoutAddress(t *testing.T) {
	r := mustParse(t, issuer, Spec{Header: http.Header{"X-A": {"b"}}})
	base := &recorder{}
	send(t, r.Transport(base), issuer+"/x")
	send(t, r.Transport(base), "https://api.example.com/x")
	seen := base.requests()
	assert.Equal(t, issuer+"/x", seen[0].URL.String())
	assert.Equal(t, "b", seen[0].Header.Get("X-A"))
	assert.Empty(t, seen[0].Header.Get(HeaderInstanceHost))
	assert.Empty(t, seen[1].Header.Get("X-A"))
}

// TestTransportKeepsRequestHeaders: an extra header the request already has
// is not replaced nor added to; the others are added with all their values.
func TestTransportKeepsRequestHeaders(t *testing.T) {
	r := mustParse(t, issuer, Spec{Header: http.Header{"X-A": {"route"}, "X-Multi": {"1", "2"}, "Accept": {"text/plain"}}})
	base := &recorder{}
	req, err := http.NewRequest(http.MethodGet, issuer+"/x", nil)
	require.NoError(t, err)
	req.Header.Set("X-A", "caller")
	req.Header.Set("Accept", "application/json")
	_, err = r.Transport(base).RoundTrip(req)
	require.NoError(t, err)
	out := base.requests()[0].Header
	assert.Equal(t, []string{"caller"}, out["X-A"])
	assert.Equal(t, []string{"application/json"}, out["Accept"])
	assert.Equal(t, []string{"1", "2"}, out["X-Multi"])
}

// TestTransportInstanceHostIsTheRoutes: with Address, the instance is the
// issuer's, whatever the request said.
func TestTransportInstanceHostIsTheRoutes(t *testing.T) {
	r := mustParse(t, issuer, Spec{Address: "https://zitadel.internal"})
	base := &recorder{}
	req, err := http.NewRequest(http.MethodGet, issuer+"/x", nil)
	require.NoError(t, err)
	req.Header.Set(HeaderInstanceHost, "other.example.com")
	_, err = r.Transport(base).RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, []string{"auth.example.com"}, base.requests()[0].Header.Values(HeaderInstanceHost))
}

// TestTransportDoesNotModifyRequest: the request given keeps its URL, Host
// and header, and a base that changes the request it gets changes neither
// it nor the route's headers for the next request, also concurrently.
func TestTransportDoesNotModifyRequest(t *testing.T) {
	r := mustParse(t, issuer, Spec{Address: "https://zitadel.internal", Header: http.Header{"X-A": {"route"}, "X-Multi": {"1", "2"}}})
	var mu sync.Mutex
	var got [][]string
	base := roundTripperFunc(func(out *http.Request) (*http.Response, error) {
		mu.Lock()
		got = append(got, []string{out.Header.Get("X-A"), strings.Join(out.Header["X-Multi"], ",")})
		mu.Unlock()
		out.Header["X-Multi"][0] = "changed by base"
		out.Header.Set("X-A", "changed by base")
		out.Header.Set("X-Base", "added")
		out.URL.Path = "/changed"
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: out}, nil
	})
	rt := r.Transport(base)
	const n = 8
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodGet, issuer+"/oauth/v2/token", nil)
			if !assert.NoError(t, err) {
				return
			}
			req.Header.Set("X-Caller", "c")
			before := req.Header.Clone()
			resp, err := rt.RoundTrip(req)
			if !assert.NoError(t, err) {
				return
			}
			resp.Body.Close()
			assert.Equal(t, issuer+"/oauth/v2/token", req.URL.String())
			assert.Equal(t, "auth.example.com", req.Host)
			assert.Equal(t, before, req.Header)
		})
	}
	wg.Wait()
	require.Len(t, got, n)
	for _, g := range got {
		assert.Equal(t, []string{"route", "1,2"}, g, "every request gets the route's headers as parsed")
	}
}

// TestTransportAnswersWithCallersRequest: the response's Request is the
// request given, not the one rewritten to the address, so that a redirect
// is resolved and judged against the origin the caller asked for: a
// redirect to a path of the issuer's origin stays within it (and a
// token-carrying layer above keeps its token).
func TestTransportAnswersWithCallersRequest(t *testing.T) {
	r := mustParse(t, issuer, Spec{Address: "https://zitadel.internal"})
	var reached []string
	base := roundTripperFunc(func(out *http.Request) (*http.Response, error) {
		reached = append(reached, out.URL.String())
		resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: out}
		if out.URL.Path == "/start" {
			resp.StatusCode = http.StatusFound
			resp.Header.Set("Location", "/next")
		}
		return resp, nil
	})
	rt := r.Transport(base)

	req, err := http.NewRequest(http.MethodGet, issuer+"/start", nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	assert.Same(t, req, resp.Request)
	loc, err := resp.Location()
	require.NoError(t, err)
	assert.Equal(t, issuer+"/next", loc.String())

	var given []*http.Request // the requests the client gives the route
	client := &http.Client{Transport: roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		given = append(given, req)
		return rt.RoundTrip(req)
	})}
	reached = nil
	resp, err = client.Get(issuer + "/start")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, issuer+"/next", resp.Request.URL.String())
	assert.Equal(t, []string{"https://zitadel.internal/start", "https://zitadel.internal/next"}, reached)
	require.Len(t, given, 2)
	require.NotNil(t, given[1].Response, "the client tells the redirected request what redirected it")
	assert.Same(t, given[0], given[1].Response.Request, "the redirect is judged against the request the route was given")

	failing := errors.New("connection refused")
	_, err = mustParse(t, issuer, Spec{Address: "https://zitadel.internal"}).Transport(roundTripperFunc(func(*http.Request) (*http.Response, error) {
		return nil, failing
	})).RoundTrip(req)
	assert.ErrorIs(t, err, failing)
}

// TestTransportWithoutChangeIsBase: a route that changes no request (no
// Address, no Header; the opt-in changes none) gives back base itself.
func TestTransportWithoutChangeIsBase(t *testing.T) {
	base := &recorder{}
	for name, r := range map[string]*Route{
		"zero":   {},
		"issuer": mustParse(t, issuer, Spec{}),
		"opt-in": mustParse(t, "http://auth.example.com", Spec{InsecureAllowPlainHTTP: true}),
	} {
		assert.Same(t, base, r.Transport(base), name)
	}
	assert.NotSame(t, base, mustParse(t, issuer, Spec{Header: http.Header{"X-A": {"b"}}}).Transport(base))
}

// TestTransportNilBase: a nil base is http.DefaultTransport; a request to
// another origin reaches it untouched (here, one it refuses unsent).
func TestTransportNilBase(t *testing.T) {
	rt := mustParse(t, issuer, Spec{Header: http.Header{"X-A": {"b"}}}).Transport(nil)
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "gopher", Host: "api.example.com"}, Header: http.Header{}}
	_, err := rt.RoundTrip(req)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unsupported protocol scheme")
}
