package introspection_test

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// Run all three in one go:
//
//	go test -run '^$' -bench . -benchmem ./introspection/

// benchSetup is an in-process fake, the middleware of an introspector for
// its API application, whose key counts its RSA signatures, and an active
// token.
func benchSetup(b *testing.B) (*serviceusertest.Server, http.Handler, *countingSigner, string) {
	srv := serviceusertest.NewServer(serviceusertest.InProcess())
	b.Cleanup(srv.Close)
	app := srv.NewApplication()
	signer := &countingSigner{PrivateKey: app.PrivateKey.(*rsa.PrivateKey)}
	key, err := serviceuser.NewSignerKey(signer, serviceuser.KeyFile{Type: serviceuser.KeyTypeApplication, KeyID: app.KeyID, ClientID: app.ClientID})
	require.NoError(b, err)
	in, err := introspection.Config{Key: key, Issuer: srv.Issuer(), HTTPClient: srv.Client()}.NewIntrospector(context.Background())
	require.NoError(b, err)
	cfg := serviceuser.Config{Key: mustKey(b, srv.NewServiceUser().KeyFile), Issuer: srv.Issuer(), HTTPClient: srv.Client(),
		Scopes: []string{"openid", app.AudienceScope()}}
	tok, err := cfg.Token(context.Background())
	require.NoError(b, err)
	h := in.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	// The first check discovers the endpoints, signs a client assertion and
	// caches the token: what a running API has done long before.
	require.Equal(b, http.StatusOK, serveBench(h, tok.AccessToken))
	return srv, h, signer, tok.AccessToken
}

// serveBench sends a GET with token to h and returns the status.
func serveBench(h http.Handler, token string) int {
	return newBenchRequest().serve(h, token)
}

// benchRequest is one request and response writer reused by every
// iteration, so that the time measured is the middleware's rather than
// that of building requests.
type benchRequest struct {
	req    *http.Request
	header http.Header
	code   int
}

func newBenchRequest() *benchRequest {
	return &benchRequest{req: httptest.NewRequest(http.MethodGet, "/", nil), header: http.Header{}}
}

func (w *benchRequest) Header() http.Header         { return w.header }
func (w *benchRequest) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchRequest) WriteHeader(code int)        { w.code = code }

// serve sends the request with token to h and returns the status.
func (w *benchRequest) serve(h http.Handler, token string) int {
	clear(w.header)
	w.code = http.StatusOK
	w.req.Header["Authorization"] = []string{"Bearer " + token}
	h.ServeHTTP(w, w.req)
	return w.code
}

// benchTokens runs the middleware with token(i) for each iteration i and
// reports the introspection requests and RSA signatures per op; every
// answer must be want.
func benchTokens(b *testing.B, token func(i int) string, want int) {
	srv, h, signer, active := benchSetup(b)
	if token == nil {
		token = func(int) string { return active }
	}
	requests, signatures := srv.IntrospectionRequests(), signer.n.Load()
	w := newBenchRequest()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if code := w.serve(h, token(i)); code != want {
			b.Fatalf("status %d, want %d", code, want)
		}
		i++
	}
	b.ReportMetric(float64(srv.IntrospectionRequests()-requests)/float64(i), "requests/op")
	b.ReportMetric(float64(signer.n.Load()-signatures)/float64(i), "signatures/op")
}

// BenchmarkMiddlewareCachedToken: an active token already in the cache.
func BenchmarkMiddlewareCachedToken(b *testing.B) {
	benchTokens(b, nil, http.StatusOK)
}

// BenchmarkMiddlewareForeignJunk: distinct tokens of a shape ZITADEL never
// issues, refused without a request.
func BenchmarkMiddlewareForeignJunk(b *testing.B) {
	benchTokens(b, func(i int) string { return "junk" + strconv.Itoa(i) }, http.StatusUnauthorized)
}

// BenchmarkMiddlewareUnknownZITADELShaped: distinct tokens shaped as
// ZITADEL's (104 base64url characters) that it never issued: one request
// each, with the client assertion reused rather than signed again.
func BenchmarkMiddlewareUnknownZITADELShaped(b *testing.B) {
	benchTokens(b, func(i int) string { return fmt.Sprintf("%0104d", i) }, http.StatusUnauthorized)
}
