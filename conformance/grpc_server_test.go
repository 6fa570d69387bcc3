package conformance

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
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	"google.golang.org/grpc/health/grpc_health_v1"

	"github.com/go-serviceuser/serviceuser"
	grpcauth "github.com/go-serviceuser/serviceuser/grpcauth"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// grpcAPI is a gRPC API as a backend would run it behind ZITADEL: TLS on
// 127.0.0.1, the standard health service, and grpcauth's server interceptors,
// which let through only calls with a token the ZITADEL instance reports
// active at its introspection endpoint (introspection.Introspector,
// authenticated with an API application's key).
type grpcAPI struct {
	// Addr is the address to dial, "127.0.0.1:PORT".
	Addr string
	// RootCAs trusts the server's self-signed certificate.
	RootCAs *x509.CertPool
	// Scope puts the API's project into a token's audience: ZITADEL reports
	// other tokens inactive to the API.
	Scope string

	srv *grpc.Server
}

// startGRPCAPI starts a grpcAPI that accepts the tokens zitadel issues.
func startGRPCAPI(zitadel *serviceusertest.Server) (*grpcAPI, error) {
	app := zitadel.NewApplication()
	appKey, err := serviceuser.ParseKeyFile(app.KeyFile)
	if err != nil {
		return nil, err
	}
	introspector, err := introspection.Config{Key: appKey, Issuer: zitadel.Issuer()}.NewIntrospector(context.Background())
	if err != nil {
		return nil, err
	}
	cert, pool, err := grpcSelfSignedCert()
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})),
		grpc.UnaryInterceptor(grpcauth.UnaryServerInterceptor(introspector)),
		grpc.StreamInterceptor(grpcauth.StreamServerInterceptor(introspector)),
	)
	healthSrv := health.NewServer()
	healthSrv.SetServingStatus("", grpc_health_v1.HealthCheckResponse_SERVING)
	grpc_health_v1.RegisterHealthServer(srv, healthSrv)
	go func() { _ = srv.Serve(lis) }()
	return &grpcAPI{Addr: lis.Addr().String(), RootCAs: pool, Scope: app.AudienceScope(), srv: srv}, nil
}

// Close stops the server.
func (a *grpcAPI) Close() { a.srv.Stop() }

// TransportCredentials returns client TLS credentials that trust the server.
func (a *grpcAPI) TransportCredentials() credentials.TransportCredentials {
	return credentials.NewTLS(&tls.Config{RootCAs: a.RootCAs, MinVersion: tls.VersionTLS12})
}

// grpcSelfSignedCert makes a P-256 certificate for 127.0.0.1, valid for an
// hour, and a pool that trusts it.
func grpcSelfSignedCert() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
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

// grpcCheckHealth calls the health service on conn.
func grpcCheckHealth(ctx context.Context, conn grpc.ClientConnInterface) (grpc_health_v1.HealthCheckResponse_ServingStatus, error) {
	resp, err := grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{})
	if err != nil {
		return grpc_health_v1.HealthCheckResponse_UNKNOWN, err
	}
	return resp.GetStatus(), nil
}

// grpcWatchHealth opens the health service's Watch stream on conn and
// returns its first status.
func grpcWatchHealth(ctx context.Context, conn grpc.ClientConnInterface) (grpc_health_v1.HealthCheckResponse_ServingStatus, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := grpc_health_v1.NewHealthClient(conn).Watch(ctx, &grpc_health_v1.HealthCheckRequest{})
	if err != nil {
		return grpc_health_v1.HealthCheckResponse_UNKNOWN, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return grpc_health_v1.HealthCheckResponse_UNKNOWN, err
	}
	return resp.GetStatus(), nil
}
