package conformance

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/oauth"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// A gRPC client authenticates as a service user by handing the token source
// to grpc's oauth.TokenSource, over TLS. The API here checks each call's
// token at the instance's introspection endpoint.
func Example_grpc() {
	ctx := context.Background()

	// A fake ZITADEL stands in for https://my-instance.zitadel.cloud.
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	user := zitadel.NewServiceUser()

	// A gRPC API over TLS with the health service, accepting only calls
	// with an active token of the instance.
	api, err := startGRPCAPI(zitadel)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer api.Close()

	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	ts := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Scopes: []string{"openid", api.Scope}}.TokenSource(ctx)
	defer ts.Close()

	conn, err := grpc.NewClient(api.Addr,
		grpc.WithTransportCredentials(api.TransportCredentials()),
		grpc.WithPerRPCCredentials(oauth.TokenSource{TokenSource: ts}),
	)
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

	anonymous, err := grpc.NewClient(api.Addr, grpc.WithTransportCredentials(api.TransportCredentials()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer anonymous.Close()
	_, err = grpc_health_v1.NewHealthClient(anonymous).Check(ctx, &grpc_health_v1.HealthCheckRequest{})
	fmt.Println("without a token:", status.Code(err))
	// Output:
	// with the service user's token: SERVING
	// without a token: Unauthenticated
}
