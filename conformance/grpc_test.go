package conformance

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/credentials/oauth"
	"google.golang.org/grpc/health/grpc_health_v1"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// These tests check that grpc's own oauth.TokenSource carries a
// *serviceuser.TokenSource's tokens. They live here rather than in the grpc
// module because grpc's oauth package brings in golang.org/x/oauth2/google's
// dependencies, which the grpc module keeps out of its users' builds.

// grpcEnv is a fake ZITADEL, a service user's token source and a gRPC API
// that accepts the instance's tokens.
type grpcEnv struct {
	zitadel *serviceusertest.Server
	ts      *serviceuser.TokenSource
	api     *grpcAPI
}

func newGRPCEnv(t *testing.T) *grpcEnv {
	t.Helper()
	zitadel := serviceusertest.NewServer(serviceusertest.WithECKeys())
	t.Cleanup(zitadel.Close)
	user := zitadel.NewServiceUserWithKey(serviceusertest.KeyEC)
	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	require.NoError(t, err)
	api, err := startGRPCAPI(zitadel)
	require.NoError(t, err)
	t.Cleanup(api.Close)
	ts := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Scopes: []string{"openid", api.Scope}}.TokenSource(t.Context())
	t.Cleanup(func() { _ = ts.Close() })
	return &grpcEnv{zitadel: zitadel, ts: ts, api: api}
}

// dial connects to the API over TLS, sending the service user's token
// with every call through grpc's own oauth.TokenSource.
func (e *grpcEnv) dial(t *testing.T) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(e.api.Addr,
		grpc.WithTransportCredentials(e.api.TransportCredentials()),
		grpc.WithPerRPCCredentials(oauth.TokenSource{TokenSource: e.ts}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func TestGRPCHealthCheckWithServiceUserToken(t *testing.T) {
	e := newGRPCEnv(t)
	conn := e.dial(t)
	const calls = 5
	for range calls {
		st, err := grpcCheckHealth(t.Context(), conn)
		require.NoError(t, err)
		assert.Equal(t, grpc_health_v1.HealthCheckResponse_SERVING, st)
	}
	st, err := grpcWatchHealth(t.Context(), conn)
	require.NoError(t, err, "streaming call")
	assert.Equal(t, grpc_health_v1.HealthCheckResponse_SERVING, st)

	assert.Equal(t, 1, e.zitadel.TokenRequests(), "one token serves every call")
	assert.Equal(t, 1, e.zitadel.IntrospectionRequests(), "the API checks the token once")
}

// grpc's oauth.TokenSource will not send a token over a connection without
// transport security: the client must use TLS, as the tests above do.
func TestGRPCOAuthCredentialsRequireTLS(t *testing.T) {
	e := newGRPCEnv(t)
	_, err := grpc.NewClient(e.api.Addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(oauth.TokenSource{TokenSource: e.ts}))
	require.ErrorContains(t, err, "transport level security")
	assert.Zero(t, e.zitadel.TokenRequests(), "no token was fetched for an insecure connection")
}
