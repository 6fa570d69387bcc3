package introspection_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/introspection"
)

// While the key set cannot be fetched, the keys held verify until their
// max-age (ZITADEL's answer says must-revalidate); past it every JWT gets
// 503, not 401: nothing is known of the token, and a 401 would log out the
// holders of valid ones. Once the set can be had again, after at most a
// second, JWTs pass again.
func TestKeySetOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		short, err := rsa.GenerateKey(rand.Reader, 1024)
		require.NoError(t, err)
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		keys := keySetHandler(t, short, ec)
		var down atomic.Bool
		p := newInProcess(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() && r.URL.Path == "/oauth/v2/keys" {
				http.Error(w, "bad gateway", http.StatusBadGateway)
				return
			}
			keys.ServeHTTP(w, r)
		}))
		in, err := introspection.Config{Mode: introspection.ModeJWT, ProjectID: jwtProject, Issuer: fakeIssuer, HTTPClient: p.client(), CacheTTL: -1}.NewIntrospector(context.Background())
		require.NoError(t, err)
		h := in.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		token := func() string {
			return signJWT(t, jose.RS256, testRSAKey(), "k1", goodClaims(time.Now()), nil)
		}

		assert.Equal(t, http.StatusOK, serve(h, "Bearer "+token()).Code)
		down.Store(true)
		time.Sleep(299 * time.Second)
		assert.Equal(t, http.StatusOK, serve(h, "Bearer "+token()).Code, "within max-age")
		time.Sleep(time.Second)
		rec := serve(h, "Bearer "+token())
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "past max-age")
		assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
		down.Store(false)
		time.Sleep(time.Second)
		assert.Equal(t, http.StatusOK, serve(h, "Bearer "+token()).Code, "the set is back")
		assert.Equal(t, 3, p.count("zitadel.example/oauth/v2/keys"))
	})
}
