package grpcauth_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/go-serviceuser/serviceuser"
	grpcauth "github.com/go-serviceuser/serviceuser/grpcauth"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// A client calls a gRPC API protected by ZITADEL as a service user: the
// token source's tokens go with each call over TLS, a cancelled call stops
// waiting for a token, and a token the API refuses is replaced.
func ExampleCredentials() {
	ctx := context.Background()

	// A fake ZITADEL stands in for https://my-instance.zitadel.cloud, and a
	// TLS gRPC API on 127.0.0.1 checks tokens at it (see the server example).
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	api, err := startExampleAPI(zitadel)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer api.stop()

	key, err := serviceuser.ParseKeyFile(zitadel.NewServiceUser().KeyFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The token must name the API's project in its audience.
	ts := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Scopes: []string{"openid", api.scope}}.TokenSource(ctx)
	defer ts.Close()

	creds := grpcauth.Credentials{Source: ts}
	conn, err := grpc.NewClient(api.addr, append(creds.DialOptions(), grpc.WithTransportCredentials(api.clientTLS))...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	resp, err := grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("with the service user's token:", resp.GetStatus())
	// Output:
	// with the service user's token: SERVING
}

// An API accepts only calls with a token that ZITADEL reports active, and
// its handlers learn whose token it is.
func ExampleUnaryServerInterceptor() {
	ctx := context.Background()
	zitadel := serviceusertest.NewServer() // stands in for https://my-instance.zitadel.cloud
	defer zitadel.Close()
	user := zitadel.NewServiceUser()

	// The API checks tokens with an API application's key.
	app := zitadel.NewApplication()
	appKey, err := serviceuser.ParseKeyFile(app.KeyFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	introspector, err := introspection.Config{Key: appKey, Issuer: zitadel.Issuer()}.NewIntrospector(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	// A handler (here, one more interceptor) sees the introspection result.
	whoami := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if r, ok := introspection.FromContext(ctx); ok {
			fmt.Println("called by the service user:", r.Subject == user.UserID)
		}
		return handler(ctx, req)
	}
	serverTLS, clientTLS, err := exampleTLS()
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := grpc.NewServer(
		grpc.Creds(serverTLS),
		grpc.ChainUnaryInterceptor(grpcauth.UnaryServerInterceptor(introspector), whoami),
		grpc.ChainStreamInterceptor(grpcauth.StreamServerInterceptor(introspector)),
	)
	defer srv.Stop()
	addr, err := serveHealth(srv)
	if err != nil {
		fmt.Println(err)
		return
	}

	anonymous, err := grpc.NewClient(addr, grpc.WithTransportCredentials(clientTLS))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer anonymous.Close()
	_, err = grpc_health_v1.NewHealthClient(anonymous).Check(ctx, &grpc_health_v1.HealthCheckRequest{})
	fmt.Println("without a token:", status.Code(err))

	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The token must name the API's project in its audience.
	ts := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Scopes: []string{"openid", app.AudienceScope()}}.TokenSource(ctx)
	defer ts.Close()
	conn, err := grpc.NewClient(addr, append(grpcauth.Credentials{Source: ts}.DialOptions(),
		grpc.WithTransportCredentials(clientTLS))...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	_, err = grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{})
	fmt.Println("with a token:", status.Code(err))
	// Output:
	// without a token: Unauthenticated
	// called by the service user: true
	// with a token: OK
}

// An API lets anyone ask for its health, and only callers with the role
// "operator" in its project watch it.
func ExampleRequireFor() {
	ctx := context.Background()
	zitadel := serviceusertest.NewServer() // stands in for https://my-instance.zitadel.cloud
	defer zitadel.Close()
	app := zitadel.NewApplication()
	appKey, err := serviceuser.ParseKeyFile(app.KeyFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	// ProjectID: the project of the API application, whose roles count.
	in, err := introspection.Config{Key: appKey, Issuer: zitadel.Issuer(), ProjectID: app.ProjectID}.NewIntrospector(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	methods := []grpcauth.ServerOption{
		grpcauth.PublicMethods("/grpc.health.v1.Health/Check"),
		grpcauth.RequireFor(introspection.RequireAnyRole("operator"), "/grpc.health.v1.Health/Watch"),
	}
	serverTLS, clientTLS, err := exampleTLS()
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := grpc.NewServer(grpc.Creds(serverTLS),
		grpc.UnaryInterceptor(grpcauth.UnaryServerInterceptor(in, methods...)),
		grpc.StreamInterceptor(grpcauth.StreamServerInterceptor(in, methods...)))
	defer srv.Stop()
	addr, err := serveHealth(srv)
	if err != nil {
		fmt.Println(err)
		return
	}

	// Watch's first answer, for a caller with the given dial options.
	watch := func(opts ...grpc.DialOption) codes.Code {
		conn, err := grpc.NewClient(addr, append(opts, grpc.WithTransportCredentials(clientTLS))...)
		if err != nil {
			return codes.Unknown
		}
		defer conn.Close()
		health := grpc_health_v1.NewHealthClient(conn)
		if _, err := health.Check(ctx, &grpc_health_v1.HealthCheckRequest{}); err != nil {
			return status.Code(err)
		}
		stream, err := health.Watch(ctx, &grpc_health_v1.HealthCheckRequest{})
		if err == nil {
			_, err = stream.Recv()
		}
		return status.Code(err)
	}
	// A service user with a token for the API's project, as operator or not.
	var sources []*serviceuser.TokenSource
	defer func() {
		for _, ts := range sources {
			ts.Close()
		}
	}()
	user := func(roles ...string) []grpc.DialOption {
		u := zitadel.NewServiceUser()
		zitadel.GrantRole(u.UserID, app.ProjectID, roles...)
		key, err := serviceuser.ParseKeyFile(u.KeyFile)
		if err != nil {
			panic(err)
		}
		ts := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Scopes: []string{"openid", app.AudienceScope()}}.TokenSource(ctx)
		sources = append(sources, ts)
		return grpcauth.Credentials{Source: ts}.DialOptions()
	}
	fmt.Println("anonymous:", watch())
	fmt.Println("operator:", watch(user("operator")...))
	fmt.Println("viewer:", watch(user("viewer")...))
	// Output:
	// anonymous: Unauthenticated
	// operator: OK
	// viewer: PermissionDenied
}

// exampleAPI is a running gRPC API of the examples.
type exampleAPI struct {
	addr      string
	scope     string // the API's project audience, which its tokens must carry
	clientTLS credentials.TransportCredentials
	stop      func()
}

// startExampleAPI starts a TLS gRPC API on 127.0.0.1 with the health
// service, which accepts only tokens that zitadel reports active to an API
// application of its own.
func startExampleAPI(zitadel *serviceusertest.Server) (*exampleAPI, error) {
	app := zitadel.NewApplication()
	appKey, err := serviceuser.ParseKeyFile(app.KeyFile)
	if err != nil {
		return nil, err
	}
	in, err := introspection.Config{Key: appKey, Issuer: zitadel.Issuer()}.NewIntrospector(context.Background())
	if err != nil {
		return nil, err
	}
	serverTLS, clientTLS, err := exampleTLS()
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer(grpc.Creds(serverTLS),
		grpc.UnaryInterceptor(grpcauth.UnaryServerInterceptor(in)), grpc.StreamInterceptor(grpcauth.StreamServerInterceptor(in)))
	addr, err := serveHealth(srv)
	if err != nil {
		srv.Stop()
		return nil, err
	}
	return &exampleAPI{addr: addr, scope: app.AudienceScope(), clientTLS: clientTLS, stop: srv.Stop}, nil
}

// exampleTLS returns server and client TLS credentials for 127.0.0.1 with a
// fresh self-signed certificate.
func exampleTLS() (server, client credentials.TransportCredentials, err error) {
	cert, pool, err := newCert()
	if err != nil {
		return nil, nil, err
	}
	server = credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	client = credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	return server, client, nil
}

// serveHealth registers a SERVING health service on srv and serves it on a
// loopback port, whose address it returns.
func serveHealth(srv *grpc.Server) (string, error) {
	hs := health.NewServer()
	hs.SetServingStatus("", grpc_health_v1.HealthCheckResponse_SERVING)
	grpc_health_v1.RegisterHealthServer(srv, hs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() { _ = srv.Serve(lis) }()
	return lis.Addr().String(), nil
}
