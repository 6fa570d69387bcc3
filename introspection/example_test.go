package introspection_test

import (
	"context"
	"encoding/json"
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
	scopes := []string{"openid", "profile", scope.ProjectAudience(app.ProjectID)}
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

// An API lets anyone read, and only callers with the role "writer" in its
// project write; a caller without it gets 403.
func ExampleIntrospector_Require() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	app := zitadel.NewApplication()
	appKey, err := serviceuser.ParseKeyFile(app.KeyFile)
	if err != nil {
		log.Fatal(err)
	}
	// ProjectID: the project of the API application (the console shows it
	// as the project's Resource ID).
	in, err := introspection.Config{Key: appKey, Issuer: zitadel.Issuer(), ProjectID: app.ProjectID}.NewIntrospector(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /items", in.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info, ok := introspection.FromContext(r.Context()); ok && info.HasRole("writer") {
			io.WriteString(w, "items, with drafts")
			return
		}
		io.WriteString(w, "items")
	})))
	mux.Handle("POST /items", in.Require(introspection.RequireAnyRole("writer"), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "saved")
	})))
	api := httptest.NewServer(mux)
	defer api.Close()

	// Two service users with tokens for the API's project; one is a writer.
	client := func() (*http.Client, string) {
		user := zitadel.NewServiceUser()
		key, err := serviceuser.ParseKeyFile(user.KeyFile)
		if err != nil {
			log.Fatal(err)
		}
		scopes := []string{"openid", scope.ProjectAudience(app.ProjectID)}
		return serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Scopes: scopes}.Client(context.Background()), user.UserID
	}
	writer, writerID := client()
	zitadel.GrantRole(writerID, app.ProjectID, "writer")
	reader, _ := client()

	show := func(c *http.Client, method string) {
		req, err := http.NewRequest(method, api.URL+"/items", nil)
		if err != nil {
			log.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%s: %d %q", method, resp.StatusCode, body)
		if challenge := resp.Header.Get("WWW-Authenticate"); challenge != "" {
			fmt.Print(" ", challenge)
		}
		fmt.Println()
	}
	show(http.DefaultClient, http.MethodGet)
	show(writer, http.MethodGet)
	show(writer, http.MethodPost)
	show(reader, http.MethodPost)
	show(http.DefaultClient, http.MethodPost)
	// Output:
	// GET: 200 "items"
	// GET: 200 "items, with drafts"
	// POST: 200 "saved"
	// POST: 403 "Forbidden\n" Bearer error="insufficient_scope"
	// POST: 401 "Unauthorized\n" Bearer
}

// A handler's test hands it a Result without ZITADEL: one read from an
// answer as ZITADEL sends it, in the request's context.
func ExampleNewContext() {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		result, _ := introspection.FromContext(r.Context())
		fmt.Fprintln(w, result.Subject, result.HasRoleInOrg("admin", "o1"), result.Roles())
	})

	var result introspection.Result
	answer := `{"active":true,"sub":"user-1","urn:zitadel:iam:org:project:roles":{"admin":{"o1":"one.example"}}}`
	if err := json.Unmarshal([]byte(answer), &result); err != nil {
		log.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req = req.WithContext(introspection.NewContext(req.Context(), &result))
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Print(rec.Body)
	// Output: user-1 true map[admin:map[o1:one.example]]
}
