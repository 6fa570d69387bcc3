package conformance

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/credentials/oauth"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

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

// dial connects to the API over TLS, sending src's token with every call
// when src is not nil.
func (e *grpcEnv) dial(t *testing.T, src oauth2.TokenSource) *grpc.ClientConn {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(e.api.TransportCredentials())}
	if src != nil {
		opts = append(opts, grpc.WithPerRPCCredentials(oauth.TokenSource{TokenSource: src}))
	}
	conn, err := grpc.NewClient(e.api.Addr, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func TestGRPCHealthCheckWithServiceUserToken(t *testing.T) {
	e := newGRPCEnv(t)
	conn := e.dial(t, e.ts)
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

func TestGRPCRejectsCallsWithoutAValidToken(t *testing.T) {
	e := newGRPCEnv(t)

	other := serviceusertest.NewServer(serviceusertest.WithECKeys())
	t.Cleanup(other.Close)
	otherKey, err := serviceuser.ParseKeyFile(other.NewServiceUserWithKey(serviceusertest.KeyEC).KeyFile)
	require.NoError(t, err)
	otherTS := serviceuser.Config{Key: otherKey, Issuer: other.Issuer()}.TokenSource(t.Context())
	t.Cleanup(func() { _ = otherTS.Close() })

	for _, tc := range []struct {
		name string
		src  oauth2.TokenSource
	}{
		{"no credentials", nil},
		{"made-up token", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "not-issued-by-zitadel"})},
		{"token of another instance", otherTS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := e.dial(t, tc.src)
			_, err := grpcCheckHealth(t.Context(), conn)
			assert.Equal(t, codes.Unauthenticated, status.Code(err), "unary: %v", err)
			_, err = grpcWatchHealth(t.Context(), conn)
			assert.Equal(t, codes.Unauthenticated, status.Code(err), "stream: %v", err)
		})
	}
	assert.Zero(t, e.zitadel.TokenRequests())
	assert.Equal(t, 1, other.IssuedTokens(), "the other instance issued the token that was refused")
	assert.GreaterOrEqual(t, e.zitadel.IntrospectionRequests(), 2, "the made-up token and the other instance's token were checked")
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
