package grpcauth_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/go-serviceuser/serviceuser"
	grpcauth "github.com/go-serviceuser/serviceuser/grpcauth"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

func TestCallOverTLSWithOrgID(t *testing.T) {
	z := newZitadel(t)
	a := startAPI(t, newIntrospector(t, z), true)
	creds := grpcauth.Credentials{Source: newSource(t, z), OrgID: "4711"}
	conn := a.dial(t, creds.DialOptions()...)

	require.NoError(t, check(t.Context(), conn))
	require.NoError(t, watch(t.Context(), conn))

	orgIDs, results := a.seen()
	assert.Equal(t, []string{"4711", "4711"}, orgIDs)
	require.Len(t, results, 2)
	assert.True(t, results[0].Active)
	assert.Equal(t, 1, z.TokenRequests(), "one cached token for both calls")
}

func TestNoOrgIDNoHeader(t *testing.T) {
	z := newZitadel(t)
	a := startAPI(t, newIntrospector(t, z), true)
	conn := a.dial(t, grpcauth.Credentials{Source: newSource(t, z)}.DialOptions()...)

	require.NoError(t, check(t.Context(), conn))
	orgIDs, _ := a.seen()
	assert.Empty(t, orgIDs)
}

func TestPlainLoopbackWithOptIn(t *testing.T) {
	z := newZitadel(t)
	a := startAPI(t, newIntrospector(t, z), false)
	creds := grpcauth.Credentials{Source: newSource(t, z), OrgID: "42", AllowInsecureConnection: true}
	conn := a.dial(t, creds.DialOptions()...)

	require.NoError(t, check(t.Context(), conn))
	orgIDs, results := a.seen()
	assert.Equal(t, []string{"42"}, orgIDs)
	require.Len(t, results, 1)
	assert.True(t, results[0].Active)
}

func TestPlainWithoutOptInIsRefusedByGRPC(t *testing.T) {
	z := newZitadel(t)
	a := startAPI(t, newIntrospector(t, z), false)
	creds := grpcauth.Credentials{Source: newSource(t, z)}
	assert.True(t, creds.RequireTransportSecurity())

	_, err := grpc.NewClient(a.addr, append(creds.DialOptions(), grpc.WithTransportCredentials(a.dialCreds()))...)
	require.Error(t, err, "grpc refuses credentials that require security on a plain connection")

	// Given per call instead, grpc refuses at the call.
	conn := a.dial(t)
	err = grpc.Invoke(t.Context(), "/grpc.health.v1.Health/Check", nil, nil, conn, grpc.PerRPCCredentials(creds))
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	assert.Zero(t, a.calls.Load())
	assert.Zero(t, z.TokenRequests())
}

// countingSource counts token requests and hands out a fixed token.
type countingSource struct {
	mu    sync.Mutex
	calls int
	tok   *oauth2.Token
	err   error
}

func (s *countingSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	return s.tok, s.err
}

// requestContext is the context grpc gives GetRequestMetadata for a call
// to addr over a connection of the given security level.
func requestContext(addr net.Addr, level credentials.SecurityLevel) context.Context {
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: addr})
	info := credentials.TLSInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: level}}
	return credentials.NewContextWithRequestInfo(ctx, credentials.RequestInfo{Method: "/s/M", AuthInfo: info})
}

func TestGetRequestMetadataConnectionRule(t *testing.T) {
	remote := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 443}
	loopback := &net.TCPAddr{IP: net.IPv6loopback, Port: 8080}
	unix := &net.UnixAddr{Name: "/run/api.sock", Net: "unix"}
	plain, secure := credentials.NoSecurity, credentials.PrivacyAndIntegrity
	tests := []struct {
		name    string
		ctx     context.Context
		uri     string
		optIn   bool
		refused bool
	}{
		{"TLS to a remote peer", requestContext(remote, secure), "https://api.example.com/s", false, false},
		{"plain to a remote peer", requestContext(remote, plain), "https://api.example.com/s", false, true},
		{"plain to a remote peer, the audience naming localhost", requestContext(remote, plain), "https://localhost/s", false, true},
		{"integrity only to a remote peer", requestContext(remote, credentials.IntegrityOnly), "https://api.example.com/s", false, true},
		{"plain to a remote peer with the opt-in", requestContext(remote, plain), "https://api.example.com/s", true, false},
		{"plain to a loopback peer", requestContext(loopback, plain), "https://api.example.com/s", false, false},
		{"plain to a unix socket", requestContext(unix, plain), "https://localhost/s", false, false},
		{"nothing known of the connection", context.Background(), "", false, true},
		{"no connection info, remote audience", context.Background(), "https://api.example.com/s", false, true},
		{"no connection info, loopback audience", context.Background(), "https://127.0.0.1:9000/s", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &countingSource{tok: &oauth2.Token{AccessToken: "secret-token", TokenType: "bearer"}}
			creds := grpcauth.Credentials{Source: src, AllowInsecureConnection: tt.optIn}
			md, err := creds.GetRequestMetadata(tt.ctx, tt.uri)
			if !tt.refused {
				require.NoError(t, err)
				assert.Equal(t, map[string]string{"authorization": "Bearer secret-token"}, md)
				return
			}
			require.ErrorIs(t, err, grpcauth.ErrPlainConnection)
			assert.Equal(t, codes.Unauthenticated, status.Code(err))
			assert.Nil(t, md)
			assert.Zero(t, src.calls, "no token fetched for a connection that may not carry it")
			assert.NotContains(t, err.Error(), "secret-token")
		})
	}
}

func TestRequireTransportSecurity(t *testing.T) {
	assert.True(t, grpcauth.Credentials{}.RequireTransportSecurity())
	assert.False(t, grpcauth.Credentials{AllowInsecureConnection: true}.RequireTransportSecurity())
}

func TestGetRequestMetadataBadSource(t *testing.T) {
	ctx := requestContext(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 7)}, credentials.PrivacyAndIntegrity)
	cause := errors.New("token endpoint down")
	tests := []struct {
		name string
		src  oauth2.TokenSource
	}{
		{"nil source", nil},
		{"failing source", &countingSource{err: cause}},
		{"nil token", &countingSource{}},
		{"empty token", &countingSource{tok: &oauth2.Token{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, err := grpcauth.Credentials{Source: tt.src}.GetRequestMetadata(ctx)
			var ce *grpcauth.CredentialsError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, codes.Unauthenticated, status.Code(err))
			assert.Nil(t, md)
		})
	}
	_, err := grpcauth.Credentials{Source: &countingSource{err: cause}}.GetRequestMetadata(ctx)
	assert.ErrorIs(t, err, cause)
}

// signalingSource reports each wait for a token on entered. Token, which
// cannot be bounded by the call's context, fails the test.
type signalingSource struct {
	t       *testing.T
	inner   *serviceuser.TokenSource
	entered chan struct{}
}

func (s *signalingSource) Token() (*oauth2.Token, error) {
	s.t.Error("Token called: the wait is not bounded by the call's context")
	s.entered <- struct{}{}
	return nil, errors.New("unbounded wait")
}

func (s *signalingSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	s.entered <- struct{}{}
	return s.inner.TokenContext(ctx)
}

func TestCancelledCallReturnsWhileTokenEndpointHangs(t *testing.T) {
	z := newZitadel(t)
	a := startAPI(t, newIntrospector(t, z), true)
	cfg := userConfig(t, z)
	cfg.Timeout = 24 * time.Hour // only the call's context can end the wait
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()
	z.FailNext(1, serviceusertest.Fault{Hang: true})
	src := &signalingSource{t: t, inner: ts, entered: make(chan struct{})}
	conn := a.dial(t, grpcauth.Credentials{Source: src}.DialOptions()...)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- check(ctx, conn) }()
	<-src.entered
	cancel()
	err := <-done

	assert.Equal(t, codes.Canceled, status.Code(err), "%v", err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, a.calls.Load(), "the call never reached the server")
}

func TestContextEndsTheWaitWithItsCode(t *testing.T) {
	z := newZitadel(t)
	cfg := userConfig(t, z)
	cfg.Timeout = 24 * time.Hour
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()
	z.FailNext(1, serviceusertest.Fault{Hang: true})
	creds := grpcauth.Credentials{Source: &signalingSource{t: t, inner: ts, entered: make(chan struct{}, 2)}}
	base := requestContext(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 7)}, credentials.PrivacyAndIntegrity)

	cancelled, cancel := context.WithCancel(base)
	cancel()
	_, err := creds.GetRequestMetadata(cancelled)
	assert.Equal(t, codes.Canceled, status.Code(err))
	assert.ErrorIs(t, err, context.Canceled)

	expired, cancel := context.WithDeadline(base, time.Unix(0, 0))
	defer cancel()
	_, err = creds.GetRequestMetadata(expired)
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
