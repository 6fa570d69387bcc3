package serviceuser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// The examples run against serviceusertest, a local fake ZITADEL. With a real
// instance, the key file comes from the console and the issuer is its URL.

// exampleKey is the key of a new service user of zitadel, parsed as
// serviceuser.ParseKeyFile does for a key file from the console (see
// ExampleConfig_TokenSource).
func exampleKey(zitadel *serviceusertest.Server) *serviceuser.KeyFile {
	key, err := serviceuser.ParseKeyFile(zitadel.NewServiceUser().KeyFile)
	if err != nil {
		log.Fatal(err)
	}
	return key
}

func ExampleReadKeyFile() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	path := filepath.Join(os.TempDir(), "serviceuser-example-key.json")
	if err := os.WriteFile(path, zitadel.NewServiceUser().KeyFile, 0o600); err != nil {
		log.Fatal(err)
	}
	defer os.Remove(path)

	key, err := serviceuser.ReadKeyFile(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key.Type, key.KeyDescription())
	// Output: serviceaccount RSA-2048
}

func ExampleKeyFileFromEnv() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	os.Setenv("ZITADEL_KEY", string(zitadel.NewServiceUser().KeyFile)) // the JSON, or a path to it
	defer os.Unsetenv("ZITADEL_KEY")

	key, err := serviceuser.KeyFileFromEnv("ZITADEL_KEY")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key.Type)
	// Output: serviceaccount
}

func ExampleConfig_TokenSource() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	key, err := serviceuser.ParseKeyFile(zitadel.NewServiceUser().KeyFile)
	if err != nil {
		log.Fatal(err)
	}

	cfg := serviceuser.Config{
		Key:    key,
		Issuer: zitadel.Issuer(), // such as "https://my-instance.zitadel.cloud"
		Scopes: []string{"openid", scope.ZitadelAPI},
	}
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()

	for range 3 {
		tok, err := ts.Token() // cached: one token request for all three calls
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(tok.Type(), tok.Valid())
	}
	fmt.Println("token requests:", zitadel.TokenRequests())
	// Output:
	// Bearer true
	// Bearer true
	// Bearer true
	// token requests: 1
}

func ExampleConfig_Client() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	user := zitadel.NewServiceUser()
	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	if err != nil {
		log.Fatal(err)
	}
	cfg := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Scopes: []string{"openid", "profile"}}

	client := cfg.Client(context.Background())
	resp, err := client.Get(zitadel.Issuer() + "/oidc/v1/userinfo")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct {
		Sub string `json:"sub"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode == http.StatusOK, info.Sub == user.UserID)
	// Output: true true
}

// Token makes one request each time, with no cache: for tools that need a
// single token. Programs use TokenSource.
func ExampleConfig_Token() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	key := exampleKey(zitadel)
	cfg := serviceuser.Config{Key: key, Issuer: zitadel.Issuer()}

	for range 2 {
		tok, err := cfg.Token(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(tok.Type(), tok.Valid())
	}
	fmt.Println("token requests:", zitadel.TokenRequests())
	// Output:
	// Bearer true
	// Bearer true
	// token requests: 2
}

// A program that needs both the token and a client makes the source once and
// asks it for the client: both share one cache.
func ExampleTokenSource_Client() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	key := exampleKey(zitadel)
	ts := serviceuser.Config{Key: key, Issuer: zitadel.Issuer()}.TokenSource(context.Background())
	defer ts.Close()

	tok, err := ts.Token()
	if err != nil {
		log.Fatal(err)
	}
	client := ts.Client()
	resp, err := client.Get(zitadel.UserinfoURL())
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(tok.Valid(), resp.StatusCode)
	fmt.Println("token requests:", zitadel.TokenRequests())
	// Output:
	// true 200
	// token requests: 1
}

// Invalidate is for a token that a server refused before its expiry; a
// Transport calls it on a 401. It drops only the token it is given, and only
// once that token is 10 s old, so that a server refusing every token cannot
// cause a token request per call.
func ExampleTokenSource_Invalidate() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	key := exampleKey(zitadel)
	ts := serviceuser.Config{Key: key, Issuer: zitadel.Issuer()}.TokenSource(context.Background())
	defer ts.Close()
	tok, err := ts.Token()
	if err != nil {
		log.Fatal(err)
	}

	ts.Invalidate(&oauth2.Token{AccessToken: "an older token"}) // not the cached one: kept
	ts.Invalidate(tok)                                          // fetched just now: kept
	again, err := ts.Token()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(again == tok, "token requests:", zitadel.TokenRequests())
	// Output: true token requests: 1
}
