package serviceuser_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/bearer"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
)

func ExampleClientCredentialsConfig() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	user, secret := zitadel.NewServiceUserWithSecret()

	cfg := serviceuser.ClientCredentialsConfig{
		ClientID:     user.Username, // the machine user's login name
		ClientSecret: serviceuser.Secret(secret),
		Issuer:       zitadel.Issuer(),
		Scopes:       []string{"openid", scope.ZitadelAPI},
	}
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()
	tok, err := ts.Token()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Type(), tok.Valid())
	fmt.Printf("%v\n", cfg.ClientSecret) // secrets never print
	// Output:
	// Bearer true
	// [redacted]
}

func ExamplePATConfig() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	user := zitadel.NewServiceUser()
	pat := zitadel.NewPersonalAccessToken(user.UserID, time.Time{}) // made in the console

	client := serviceuser.PATConfig{PAT: serviceuser.Secret(pat)}.Client(context.Background())
	info, err := userinfo.Fetch(context.Background(), client, zitadel.UserinfoURL())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Subject == user.UserID)
	// Output: true
}

// Calls to ZITADEL's Management API (REST) act on another organization when
// OrgID is set. The request here goes to a stand-in for the API.
func ExampleConfig_managementAPI() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	management := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s org=%s bearer=%t", r.Method, r.URL.Path,
			r.Header.Get(bearer.HeaderOrgID), len(r.Header.Get("Authorization")) > len("Bearer "))
	}))
	defer management.Close()

	key := exampleKey(zitadel)
	cfg := serviceuser.Config{
		Key:    key,
		Issuer: zitadel.Issuer(),
		Scopes: []string{"openid", scope.ZitadelAPI}, // required by the Management API
		OrgID:  "284371625019080714",
	}
	resp, err := cfg.Client(context.Background()).Post(management.URL+"/management/v1/users/_search", "application/json", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output: POST /management/v1/users/_search org=284371625019080714 bearer=true
}
