package serviceuser_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
)

// A service in the cluster reaches ZITADEL by its internal address while the
// instance is known by its public domain. Here the fake's domain is
// "localhost:PORT" and it is reached at "127.0.0.1:PORT"; in a cluster they
// would be "https://auth.example.com" and
// "http://zitadel.zitadel.svc:8080" (with InsecureAllowPlainHTTP, for a
// network you control).
func ExampleRoute() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	_, port, _ := strings.Cut(zitadel.ListenerHost(), ":")
	zitadel.SetInstanceDomain("localhost:" + port)
	user := zitadel.NewServiceUser()
	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	if err != nil {
		log.Fatal(err)
	}

	cfg := serviceuser.Config{
		Key:    key,
		Issuer: "http://localhost:" + port,                                     // the public identity: the assertion's audience
		Route:  serviceuser.Route{Address: "http://" + zitadel.ListenerHost()}, // where requests go
	}
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()
	info, err := userinfo.Fetch(context.Background(), ts.Client(), zitadel.UserinfoURL())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("userinfo subject is the user:", info.Subject == user.UserID)

	// Without Address, requests to the internal address name a host that is
	// not the instance's domain, and ZITADEL does not find the instance.
	cfg.Issuer, cfg.Route = "http://"+zitadel.ListenerHost(), serviceuser.Route{}
	_, err = cfg.Token(context.Background())
	fmt.Println("without Address:", strings.Contains(err.Error(), "Instance not found"))
	// Output:
	// userinfo subject is the user: true
	// without Address: true
}
