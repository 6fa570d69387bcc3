package introspection_test

import (
	"context"
	"fmt"
	"log"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// With ModeJWT a JWT access token is verified against ZITADEL's key set,
// fetched once, without an introspection request: no API application key
// is needed, only the project's ID.
func ExampleConfig_jwtAccessTokens() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	app, user := zitadel.NewApplication(), zitadel.NewServiceUser()
	zitadel.SetJWTAccessTokens(user.UserID, true) // the user's accessTokenType ACCESS_TOKEN_TYPE_JWT
	zitadel.GrantRole(user.UserID, app.ProjectID, "admin")

	in, err := introspection.Config{Mode: introspection.ModeJWT, ProjectID: app.ProjectID, Issuer: zitadel.Issuer()}.
		NewIntrospector(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	if err != nil {
		log.Fatal(err)
	}
	scopes := []string{"openid", scope.ProjectAudience(app.ProjectID), "urn:zitadel:iam:org:projects:roles"}
	tok, err := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Scopes: scopes}.Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	r, err := in.Introspect(context.Background(), tok.AccessToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("active:", r.Active, "local:", r.Local, "admin:", r.HasRole("admin"), "subject is the user:", r.Subject == user.UserID)

	forged := []byte(tok.AccessToken) // one character of the signature changed
	if forged[len(forged)-10] = 'A'; tok.AccessToken[len(forged)-10] == 'A' {
		forged[len(forged)-10] = 'B'
	}
	r, err = in.Introspect(context.Background(), string(forged))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signature changed, active:", r.Active)
	fmt.Println("introspection requests:", zitadel.IntrospectionRequests(), "key set requests:", zitadel.KeySetRequests())
	// Output:
	// active: true local: true admin: true subject is the user: true
	// signature changed, active: false
	// introspection requests: 0 key set requests: 1
}
