package introspection_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// Run them all in one go:
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

// BenchmarkJWT checks a JWT access token of the fake: its peers are a bare
// RSA-2048 PKCS#1 v1.5 verification and go-jose's parse and verify; the
// library's first sight of a token (cache off: every check verifies) and a
// token seen before (the cache).
func BenchmarkJWT(b *testing.B) {
	srv := serviceusertest.NewServer(serviceusertest.InProcess())
	b.Cleanup(srv.Close)
	app, user := srv.NewApplication(), srv.NewServiceUser()
	srv.SetJWTAccessTokens(user.UserID, true)
	srv.GrantRole(user.UserID, app.ProjectID, "admin")
	cfg := serviceuser.Config{Key: mustKey(b, user.KeyFile), Issuer: srv.Issuer(), HTTPClient: srv.Client(),
		Scopes: []string{"openid", app.AudienceScope(), "urn:zitadel:iam:org:projects:roles"}}
	tok, err := cfg.Token(context.Background())
	require.NoError(b, err)
	token := tok.AccessToken
	pub := fakeSigningKey(b, srv, token)
	introspector := func(ttl time.Duration) *introspection.Introspector {
		in, err := introspection.Config{Mode: introspection.ModeJWT, ProjectID: app.ProjectID, Issuer: srv.Issuer(), HTTPClient: srv.Client(), CacheTTL: ttl}.NewIntrospector(context.Background())
		require.NoError(b, err)
		r, err := in.Introspect(context.Background(), token) // fetches the key set
		require.NoError(b, err)
		require.True(b, r.Active && r.Local)
		return in
	}
	dot := strings.LastIndexByte(token, '.')
	digest := sha256.Sum256([]byte(token[:dot]))
	sig, err := base64URL(token[dot+1:])
	require.NoError(b, err)

	b.Run("rsa.VerifyPKCS1v15", func(b *testing.B) {
		for b.Loop() {
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-jose", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
			if err != nil {
				b.Fatal(err)
			}
			payload, err := jws.Verify(pub)
			if err != nil {
				b.Fatal(err)
			}
			var claims map[string]json.RawMessage
			if err := json.Unmarshal(payload, &claims); err != nil {
				b.Fatal(err)
			}
		}
	})
	for name, ttl := range map[string]time.Duration{"library-first-seen": -1, "library-seen-before": 0} {
		in := introspector(ttl)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r, err := in.Introspect(context.Background(), token); err != nil || !r.Active {
					b.Fatal(err)
				}
			}
		})
	}
	// The load of a shared machine drifts between the runs above: this one
	// alternates the library's first sight of the token with the bare
	// verification and reports the ratio of their times.
	b.Run("library-first-seen-paired", func(b *testing.B) {
		in := introspector(-1)
		var library, bare time.Duration
		for b.Loop() {
			start := time.Now()
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
				b.Fatal(err)
			}
			verified := time.Now()
			if r, err := in.Introspect(context.Background(), token); err != nil || !r.Active {
				b.Fatal(err)
			}
			library += time.Since(verified)
			bare += verified.Sub(start)
		}
		b.ReportMetric(float64(library)/float64(bare), "x-rsa")
	})
	require.Zero(b, srv.IntrospectionRequests())
}

// fakeSigningKey is the key of srv's key set that signed token.
func fakeSigningKey(b *testing.B, srv *serviceusertest.Server, token string) *rsa.PublicKey {
	resp, err := srv.Client().Get(srv.Issuer() + "/oauth/v2/keys")
	require.NoError(b, err)
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	require.NoError(b, json.NewDecoder(resp.Body).Decode(&set))
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(b, err)
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	require.Len(b, keys, 1)
	return keys[0].Key.(*rsa.PublicKey)
}

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
