package introspection_test

import (
	"context"
	"testing"

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
