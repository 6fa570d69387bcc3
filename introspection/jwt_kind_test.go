package introspection_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/introspection"
)

// keySetIntrospector is an Introspector in mode against keySetHandler's
// key set, with the transport that counts its requests.
func keySetIntrospector(t *testing.T, mode introspection.Mode) (*introspection.Introspector, *inProcess) {
	t.Helper()
	short, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p := newInProcess(keySetHandler(t, short, ec))
	cfg := introspection.Config{Mode: mode, ProjectID: jwtProject, Issuer: fakeIssuer, HTTPClient: p.client()}
	if mode != introspection.ModeJWT {
		cfg.Key = applicationKey(t)
	}
	in, err := cfg.NewIntrospector(context.Background())
	require.NoError(t, err)
	return in, p
}

// ZITADEL signs ID tokens and back-channel logout tokens with the keys of
// its access tokens, and an ID token's aud holds the project of the app
// that asked: only the claims tell them apart. An access token always has
// a jti and never a nonce, at_hash, c_hash, sid or events (ZITADEL's claims
// table; jti measured), so an ID token that leaked through a logout URL's
// id_token_hint does not open the API.
func TestJWTOtherKindsRefused(t *testing.T) {
	in, p := keySetIntrospector(t, introspection.ModeJWTOrIntrospect)
	now := time.Now()
	good := goodClaims(now)
	idToken := map[string]any{"iss": fakeIssuer, "sub": "user-1", "aud": []string{"client-1@app", jwtProject},
		"exp": now.Add(12 * time.Hour).Unix(), "iat": now.Unix(), "auth_time": now.Unix(), "azp": "client-1@app",
		"client_id": "client-1@app", "amr": []string{"pwd"}, "sid": "sid-1", "at_hash": "x5Wt0nXp3yu0zuQ8cRDSyg"}
	for _, c := range []struct {
		name   string
		claims map[string]any
		active bool
	}{
		{"access token", good, true},
		{"ID token of a login to an app of the project", idToken, false},
		{"ID token with a nonce", with(idToken, map[string]any{"nonce": "n-1"}), false},
		{"no jti", with(good, map[string]any{"jti": nil}), false},
		{"empty jti", with(good, map[string]any{"jti": ""}), false},
		{"nonce", with(good, map[string]any{"nonce": "n-1"}), false},
		{"at_hash", with(good, map[string]any{"at_hash": "x5Wt0nXp3yu0zuQ8cRDSyg"}), false},
		{"c_hash", with(good, map[string]any{"c_hash": "x5Wt0nXp3yu0zuQ8cRDSyg"}), false},
		{"sid", with(good, map[string]any{"sid": "sid-1"}), false},
		{"logout token", with(good, map[string]any{"sid": "sid-1", "events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}}), false},
	} {
		r, err := in.Introspect(context.Background(), signJWT(t, jose.RS256, testRSAKey(), "k1", c.claims, nil))
		require.NoError(t, err, c.name)
		assert.Equal(t, c.active, r.Active, c.name)
	}
	assert.Zero(t, p.count("zitadel.example/oauth/v2/introspect"), "a refused JWT is not asked about")
}
