package userinfo_test

import (
	"context"
	"fmt"
	"log"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
)

// Fetch with the endpoint Discover finds is the quickest check that a
// service user's token works.
func ExampleFetch() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	user := zitadel.NewServiceUser()
	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	if err != nil {
		log.Fatal(err)
	}
	cfg := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Scopes: []string{"openid", "profile"}}
	ep, err := userinfo.Discover(context.Background(), cfg.Issuer, serviceuser.Route{}, nil)
	if err != nil {
		log.Fatal(err)
	}

	info, err := userinfo.Fetch(context.Background(), cfg.Client(context.Background()), ep.UserinfoURL)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Subject == user.UserID, info.PreferredUsername == user.Username)
	// Output: true true
}
