package grpcauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/bearer"
	grpcauth "github.com/go-serviceuser/serviceuser/grpcauth"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// newZitadel starts a fake ZITADEL instance, closed when the test ends.
func newZitadel(t *testing.T) *serviceusertest.Server {
	t.Helper()
	z := serviceusertest.NewServer()
	t.Cleanup(z.Close)
	return z
}

// apps holds the API application of each fake ZITADEL: the API the tests
// call is that application's project.
var apps sync.Map // *serviceusertest.Server -> *serviceusertest.Application

// apiApp returns z's API application, made on first use.
func apiApp(z *serviceusertest.Server) *serviceusertest.Application {
	app, _ := apps.LoadOrStore(z, z.NewApplication())
	return app.(*serviceusertest.Application)
}

// userConfig is the Config of a new service user of z. Its tokens carry the
// API's project in their audience, without which ZITADEL reports them
// inactive to the API.
func userConfig(t *testing.T, z *serviceusertest.Server) serviceuser.Config {
	t.Helper()
	key, err := serviceuser.ParseKeyFile(z.NewServiceUser().KeyFile)
	require.NoError(t, err)
	return serviceuser.Config{Key: key, Issuer: z.Issuer(), Scopes: []string{"openid", apiApp(z).AudienceScope()}}
}

// newSource returns a token source of a new service user of z, closed when
// the test ends.
func newSource(t *testing.T, z *serviceusertest.Server) *serviceuser.TokenSource {
	t.Helper()
	ts := userConfig(t, z).TokenSource(context.Background())
	t.Cleanup(func() { _ = ts.Close() })
	return ts
}

// newIntrospector checks tokens at z with the API application's key, and
// reads the roles in its project, without a cache, so that a revoked token
// is refused at once and a role granted counts at once.
func newIntrospector(t *testing.T, z *serviceusertest.Server) *introspection.Introspector {
	t.Helper()
	app := apiApp(z)
	key, err := serviceuser.ParseKeyFile(app.KeyFile)
	require.NoError(t, err)
	in, err := introspection.Config{Key: key, Issuer: z.Issuer(), ProjectID: app.ProjectID, CacheTTL: -1}.NewIntrospector(context.Background())
	require.NoError(t, err)
	return in
}

// api is a gRPC API on 127.0.0.1 with the health service behind the
// package's server interceptors. It counts the calls that reach it and
// records what the handlers see.
type api struct {
	addr      string
	tlsClient credentials.TransportCredentials // nil for a plain server

	calls   atomic.Int32 // calls received, before authentication
	mu      sync.Mutex
	orgIDs  []string                // x-zitadel-orgid of each call
	results []*introspection.Result // FromContext in each authenticated handler
}

// startAPI starts an api checking tokens with in, and the methods' needs
// with methods, over TLS when secure.
func startAPI(t *testing.T, in grpcauth.Introspector, secure bool, methods ...grpcauth.ServerOption) *api {
	t.Helper()
	a := &api{}
	seeUnary, seeStream := observe(a.see)
	recordUnary, recordStream := observe(a.record)
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(seeUnary, grpcauth.UnaryServerInterceptor(in, methods...), recordUnary),
		grpc.ChainStreamInterceptor(seeStream, grpcauth.StreamServerInterceptor(in, methods...), recordStream),
	}
	if secure {
		serverTLS, clientTLS, err := exampleTLS()
		require.NoError(t, err)
		opts = append(opts, grpc.Creds(serverTLS))
		a.tlsClient = clientTLS
	}
	srv := grpc.NewServer(opts...)
	t.Cleanup(srv.Stop)
	addr, err := serveHealth(srv)
	require.NoError(t, err)
	a.addr = addr
	return a
}

// observe returns unary and stream interceptors that pass each call's
// context to f and go on.
func observe(f func(context.Context)) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	unary := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		f(ctx)
		return h(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		f(ss.Context())
		return h(srv, ss)
	}
	return unary, stream
}

// see counts a call and its x-zitadel-orgid, before authentication.
func (a *api) see(ctx context.Context) {
	a.calls.Add(1)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.orgIDs = append(a.orgIDs, metadata.ValueFromIncomingContext(ctx, bearer.HeaderOrgID)...)
}

// record keeps what an authenticated handler finds with introspection.FromContext.
func (a *api) record(ctx context.Context) {
	r, _ := introspection.FromContext(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.results = append(a.results, r)
}

func (a *api) seen() (orgIDs []string, results []*introspection.Result) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.orgIDs...), append([]*introspection.Result(nil), a.results...)
}

// dial connects to a over TLS, or plainly when a is plain, with opts.
func (a *api) dial(t *testing.T, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(a.addr, append([]grpc.DialOption{grpc.WithTransportCredentials(a.dialCreds())}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// dialCreds are the transport credentials that reach a.
func (a *api) dialCreds() credentials.TransportCredentials {
	if a.tlsClient == nil {
		return insecure.NewCredentials()
	}
	return a.tlsClient
}

// check calls the health service's unary Check.
func check(ctx context.Context, conn *grpc.ClientConn) error {
	_, err := grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{})
	return err
}

// watch opens the health service's Watch stream and returns the error of
// its first message.
func watch(ctx context.Context, conn *grpc.ClientConn) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := grpc_health_v1.NewHealthClient(conn).Watch(ctx, &grpc_health_v1.HealthCheckRequest{})
	if err != nil {
		return err
	}
	_, err = stream.Recv()
	return err
}

// newCert makes a P-256 certificate for 127.0.0.1, valid for an hour, and a
// pool that trusts it.
func newCert() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// renewingSource gives tokens of one service user and, unlike
// *serviceuser.TokenSource, drops an invalidated token whatever its age, so
// that a test sees a new token at once. It keeps compare-and-invalidate:
// only the token it currently hands out is dropped.
type renewingSource struct {
	t   *testing.T
	cfg serviceuser.Config

	mu            sync.Mutex
	cur           *serviceuser.TokenSource
	last          *oauth2.Token // the token cur hands out
	invalidations int
}

func newRenewingSource(t *testing.T, z *serviceusertest.Server) *renewingSource {
	s := &renewingSource{t: t, cfg: userConfig(t, z)}
	s.cur = s.open()
	return s
}

func (s *renewingSource) open() *serviceuser.TokenSource {
	ts := s.cfg.TokenSource(context.Background())
	s.t.Cleanup(func() { _ = ts.Close() })
	return ts
}

func (s *renewingSource) Token() (*oauth2.Token, error) {
	return s.TokenContext(context.Background())
}

func (s *renewingSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	cur := s.cur
	s.mu.Unlock()
	tok, err := cur.TokenContext(ctx)
	if err == nil {
		s.mu.Lock()
		if cur == s.cur {
			s.last = tok
		}
		s.mu.Unlock()
	}
	return tok, err
}

func (s *renewingSource) Invalidate(tok *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok != nil && tok == s.last {
		s.invalidations++
		s.last = nil
		s.cur = s.open()
	}
}

func (s *renewingSource) invalidated() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.invalidations
}
