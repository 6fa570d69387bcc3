package introspection_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
)

// The JWT modes need the project; ModeJWT alone does without a key.
func TestJWTModeConfig(t *testing.T) {
	key := applicationKey(t)
	for _, c := range []struct {
		cfg   introspection.Config
		field string
	}{
		{introspection.Config{Mode: introspection.ModeJWT, ProjectID: jwtProject}, ""},
		{introspection.Config{Mode: introspection.ModeJWT, ProjectID: jwtProject, Key: key}, ""},
		{introspection.Config{Mode: introspection.ModeJWTOrIntrospect, ProjectID: jwtProject, Key: key}, ""},
		{introspection.Config{Key: key}, ""},
		{introspection.Config{Mode: introspection.ModeJWT}, "ProjectID"},
		{introspection.Config{Mode: introspection.ModeJWTOrIntrospect, Key: key}, "ProjectID"},
		{introspection.Config{Mode: introspection.ModeJWTOrIntrospect, ProjectID: jwtProject}, "Key"},
		{introspection.Config{ProjectID: jwtProject}, "Key"},
		{introspection.Config{Mode: introspection.ModeJWT, ProjectID: jwtProject, Key: &serviceuser.KeyFile{}}, "Key"},
		{introspection.Config{Mode: 3, ProjectID: jwtProject, Key: key}, "Mode"},
		{introspection.Config{Mode: -1, Key: key}, "Mode"},
	} {
		c.cfg.Issuer = fakeIssuer
		err := c.cfg.Validate()
		if c.field == "" {
			assert.NoError(t, err, "%+v", c.cfg.Mode)
			continue
		}
		var ce *serviceuser.ConfigError
		require.ErrorAs(t, err, &ce, "%v", c.cfg.Mode)
		assert.Equal(t, c.field, ce.Field, "%v: %v", c.cfg.Mode, err)
	}
	assert.Equal(t, "ModeJWTOrIntrospect", introspection.ModeJWTOrIntrospect.String())
	assert.Equal(t, "Mode(7)", introspection.Mode(7).String())
}

// A key set named at a plain-http URL of another host is not fetched: whoever
// could change it could make every token; and a discovery document without
// jwks_uri is an error, not a refusal of the token.
func TestJWTKeySetURLChecked(t *testing.T) {
	for uri, problem := range map[string]string{"http://keys.example/oauth/v2/keys": "unusable jwks_uri", "": "names no jwks_uri"} {
		p := newInProcess(discoveryHandler(map[string]any{"jwks_uri": uri}))
		in, err := introspection.Config{Mode: introspection.ModeJWT, ProjectID: jwtProject, Issuer: fakeIssuer, HTTPClient: p.client()}.NewIntrospector(context.Background())
		require.NoError(t, err)
		_, err = in.Introspect(context.Background(), "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.e30.c2ln")
		var de *serviceuser.DiscoveryError
		require.ErrorAs(t, err, &de, uri)
		assert.Contains(t, de.Error(), problem)
		assert.Zero(t, p.count("keys.example/oauth/v2/keys"))
	}
}

// KeySetURL is the rule's as IntrospectionURL is, and only for the JWT modes.
func TestKeySetURLConfig(t *testing.T) {
	key := applicationKey(t)
	for url, field := range map[string]string{
		"https://keys.example/oauth/v2/keys": "", "http://127.0.0.1:8080/keys": "",
		"http://keys.example/oauth/v2/keys": "KeySetURL", "keys.example/oauth/v2/keys": "KeySetURL", "https://": "KeySetURL",
	} {
		err := introspection.Config{Mode: introspection.ModeJWT, ProjectID: jwtProject, Issuer: fakeIssuer, KeySetURL: url}.Validate()
		if field == "" {
			assert.NoError(t, err, url)
			continue
		}
		var ce *serviceuser.ConfigError
		require.ErrorAs(t, err, &ce, url)
		assert.Equal(t, field, ce.Field, url)
	}
	err := introspection.Config{Mode: introspection.ModeJWT, ProjectID: jwtProject, Issuer: fakeIssuer, KeySetURL: "http://keys.example/k"}.Validate()
	assert.ErrorIs(t, err, serviceuser.ErrInsecureURL)
	err = introspection.Config{Key: key, Issuer: fakeIssuer, KeySetURL: "https://keys.example/k"}.Validate()
	var ce *serviceuser.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "KeySetURL", ce.Field, "ModeIntrospect reads no key set")
}

// With KeySetURL the key set is fetched from it, not from discovery's
// jwks_uri, and JWTs need no discovery at all.
func TestKeySetURLUsed(t *testing.T) {
	keys := keySetHandler(t, must(rsa.GenerateKey(rand.Reader, 1024)), must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)))
	p := newInProcess(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/custom/keys" {
			http.NotFound(w, r)
			return
		}
		r.URL.Path = "/oauth/v2/keys"
		keys.ServeHTTP(w, r)
	}))
	in, err := introspection.Config{Mode: introspection.ModeJWT, ProjectID: jwtProject, Issuer: fakeIssuer, HTTPClient: p.client(),
		KeySetURL: fakeIssuer + "/custom/keys"}.NewIntrospector(context.Background())
	require.NoError(t, err)
	for range 2 {
		r, err := in.Introspect(context.Background(), signJWT(t, jose.RS256, testRSAKey(), "k1", goodClaims(time.Now()), nil))
		require.NoError(t, err)
		assert.True(t, r.Active && r.Local)
	}
	assert.Equal(t, 1, p.count("zitadel.example/custom/keys"))
	assert.Zero(t, p.count("zitadel.example"+discoveryPath))
}
