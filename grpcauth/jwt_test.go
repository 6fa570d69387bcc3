package grpcauth_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
)

// The interceptors take JWT access tokens verified against ZITADEL's key
// set as they take introspected ones, without an introspection request; an
// AlwaysIntrospect introspector refuses one that was revoked.
func TestServerAcceptsJWTVerifiedLocally(t *testing.T) {
	z := newZitadel(t)
	app := apiApp(z)
	cfg := userConfig(t, z)
	key, err := cfg.Key.CurrentKey()
	require.NoError(t, err)
	z.SetJWTAccessTokens(key.UserID, true)
	tok, err := cfg.Token(context.Background())
	require.NoError(t, err)
	in, err := introspection.Config{Mode: introspection.ModeJWT, Issuer: z.Issuer(), ProjectID: app.ProjectID}.NewIntrospector(context.Background())
	require.NoError(t, err)

	a := startAPI(t, in, false)
	unary, stream := callWith(t, a, "Bearer "+tok.AccessToken)
	require.NoError(t, unary)
	require.NoError(t, stream)
	_, results := a.seen()
	require.Len(t, results, 2)
	for _, r := range results {
		assert.True(t, r.Active && r.Local)
		assert.Equal(t, key.UserID, r.Subject)
	}
	assert.Zero(t, z.IntrospectionRequests())

	z.RevokeToken(tok.AccessToken)
	unary, stream = callWith(t, a, "Bearer "+tok.AccessToken)
	require.NoError(t, unary, "a revoked JWT verifies until it expires")
	require.NoError(t, stream)

	both := newIntrospector(t, z)
	appKey, err := serviceuser.ParseKeyFile(app.KeyFile)
	require.NoError(t, err)
	strictIn, err := introspection.Config{Mode: introspection.ModeJWTOrIntrospect, Key: appKey, Issuer: z.Issuer(), ProjectID: app.ProjectID}.NewIntrospector(context.Background())
	require.NoError(t, err)
	for _, in := range []*introspection.Introspector{both, strictIn.AlwaysIntrospect()} {
		unary, stream = callWith(t, startAPI(t, in, false), "Bearer "+tok.AccessToken)
		assert.Equal(t, codes.Unauthenticated, status.Code(unary))
		assert.Equal(t, codes.Unauthenticated, status.Code(stream))
	}
}
