package introspection_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// A backend API checks the tokens its callers send, authenticating to
// ZITADEL with an API application's key.
func ExampleIntrospector_Middleware() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	app := zitadel.NewApplication()
	appKey, err := serviceuser.ParseKeyFile(app.KeyFile)
	if err != nil {
		log.Fatal(err)
	}
	in, err := introspection.Config{Key: appKey, Issuer: zitadel.Issuer()}.NewIntrospector(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	api := httptest.NewServer(in.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, _ := introspection.FromContext(r.Context())
		fmt.Fprintf(w, "hello, %s", info.Username)
	})))
	defer api.Close()

	// A caller with a service user's token for the API's project gets in;
	// one without does not.
	user := zitadel.NewServiceUser()
	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	if err != nil {
		log.Fatal(err)
	}
	scopes := []string{"openid", scope.ProjectAudience(app.ProjectID)}
	caller := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Scopes: scopes}.Client(context.Background())
	resp, err := caller.Get(api.URL)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body) == "hello, "+user.Username)

	resp, err = http.Get(api.URL)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	// Output:
	// 200 true
	// 401 Bearer
}
