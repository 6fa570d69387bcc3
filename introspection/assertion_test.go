package introspection_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
)

// countingSigner is an RSA key that counts its signatures.
type countingSigner struct {
	*rsa.PrivateKey
	n atomic.Int32
}

func (s *countingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.n.Add(1)
	return s.PrivateKey.Sign(r, digest, opts)
}

// assertionRecorder is an introspection endpoint answering every token
// inactive that records the client assertions it gets.
type assertionRecorder struct {
	mu         sync.Mutex
	assertions map[string]int
}

func (a *assertionRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	a.assertions[r.PostForm.Get("client_assertion")]++
	a.mu.Unlock()
	io.WriteString(w, `{"active":false}`)
}

// TestClientAssertionReused: ZITADEL accepts one client assertion any number
// of times within its lifetime, and signing one costs the API about a
// millisecond of CPU (RSA): introspections of distinct tokens share one for
// a minute, so that a flood of junk tokens costs no signature each.
func TestClientAssertionReused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		signer := &countingSigner{PrivateKey: testRSAKey()}
		key, err := serviceuser.NewSignerKey(signer, serviceuser.KeyFile{Type: serviceuser.KeyTypeApplication, KeyID: "kid-1", ClientID: "client-1"})
		require.NoError(t, err)
		rec := &assertionRecorder{assertions: map[string]int{}}
		mux := http.NewServeMux()
		mux.Handle(discoveryPath, discoveryHandler(nil))
		mux.Handle("/oauth/v2/introspect", rec)
		in, err := introspection.Config{Key: key, Issuer: fakeIssuer, HTTPClient: newInProcess(mux).client()}.NewIntrospector(context.Background())
		require.NoError(t, err)
		var wg sync.WaitGroup
		for i := range 100 {
			wg.Go(func() {
				_, err := in.Introspect(context.Background(), opaqueToken(fmt.Sprintf("token-%d-", i)))
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		assert.Equal(t, int32(1), signer.n.Load(), "one signature for 100 introspections")
		assert.Equal(t, 1, len(rec.assertions), "one assertion sent")

		time.Sleep(time.Minute)
		_, err = in.Introspect(context.Background(), opaqueToken("token-after-a-minute"))
		require.NoError(t, err)
		assert.Equal(t, int32(2), signer.n.Load(), "a new assertion after a minute")
		assert.Equal(t, 2, len(rec.assertions))
	})
}

// TestIntrospectorPrintsNoAssertion: the client assertion an introspector
// keeps for reuse shows in no way of printing it.
func TestIntrospectorPrintsNoAssertion(t *testing.T) {
	rec := &assertionRecorder{assertions: map[string]int{}}
	mux := http.NewServeMux()
	mux.Handle(discoveryPath, discoveryHandler(nil))
	mux.Handle("/oauth/v2/introspect", rec)
	in, err := introspection.Config{Key: applicationKey(t), Issuer: fakeIssuer, HTTPClient: newInProcess(mux).client()}.
		NewIntrospector(context.Background())
	require.NoError(t, err)
	_, err = in.Introspect(context.Background(), opaqueToken("a-token"))
	require.NoError(t, err)
	require.Equal(t, 1, len(rec.assertions))
	for assertion := range rec.assertions {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			shown := fmt.Sprintf(verb, in)
			assert.NotContains(t, shown, assertion, verb)
			assert.NotContains(t, shown, fmt.Sprintf("%x", assertion), verb)
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "introspector", in)
		assert.NotContains(t, buf.String(), assertion)
	}
	assert.Equal(t, "introspection.Introspector{assertion: [redacted]}", fmt.Sprint(in))
}

// TestClientAssertionForPlainHTTPIssuer: with InsecureAllowPlainHTTP, an
// issuer on plain http to a host that is not loopback (a compose network,
// say) gets client assertions for that issuer, as its token requests do.
func TestClientAssertionForPlainHTTPIssuer(t *testing.T) {
	const issuer = "http://zitadel.internal:8080"
	var audience []string
	mux := http.NewServeMux()
	mux.HandleFunc(discoveryPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "token_endpoint": issuer + "/oauth/v2/token",
			"introspection_endpoint": issuer + "/oauth/v2/introspect"})
	})
	mux.HandleFunc("/oauth/v2/introspect", func(w http.ResponseWriter, r *http.Request) {
		audience = assertionAudience(t, r.FormValue("client_assertion"))
		io.WriteString(w, `{"active":true,"sub":"user-1"}`)
	})
	in, err := introspection.Config{Key: applicationKey(t), Issuer: issuer + "/", Route: serviceuser.Route{InsecureAllowPlainHTTP: true},
		HTTPClient: newInProcess(mux).client()}.NewIntrospector(context.Background())
	require.NoError(t, err)
	r, err := in.Introspect(context.Background(), opaqueToken("a-token"))
	require.NoError(t, err)
	assert.True(t, r.Active)
	assert.Equal(t, []string{issuer}, audience)
}

// assertionAudience is the "aud" claim of a compact JWT, not verified.
func assertionAudience(t *testing.T, jwt string) []string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims struct {
		Aud []string `json:"aud"`
	}
	require.NoError(t, json.Unmarshal(payload, &claims))
	return claims.Aud
}
