package serviceuser_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
)

// TestAddressReachesInstanceByInternalAddress: with Address, every request
// of every config (discovery, token, userinfo and the Management API through
// Client, introspection) goes to the address, names the instance by its
// header and carries the extra headers; the issuer stays the public domain.
func TestAddressReachesInstanceByInternalAddress(t *testing.T) {
	srv, issuer, address := inClusterFake(t)
	user := srv.NewServiceUser()
	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	require.NoError(t, err)
	app := srv.NewApplication()
	appKey, err := serviceuser.ParseKeyFile(app.KeyFile)
	require.NoError(t, err)
	secretUser, secret := srv.NewServiceUserWithSecret()
	pat := srv.NewPersonalAccessToken(user.UserID, serviceusertest.NoExpiry)
	sent := passthrough()
	hc := &http.Client{Transport: sent}
	extra := http.Header{"x-zitadel-public-host": {"auth.example.com"}}
	ctx := context.Background()

	cfg := serviceuser.Config{Key: key, Issuer: issuer, Route: serviceuser.Route{Address: address, Header: extra}, HTTPClient: hc,
		Scopes: []string{"openid", scope.ZitadelAPI, app.AudienceScope()}}
	require.NoError(t, cfg.Validate())
	ts := cfg.TokenSource(ctx)
	defer ts.Close()
	tok, err := ts.Token()
	require.NoError(t, err)
	info, err := userinfo.Fetch(ctx, ts.Client(), srv.UserinfoURL())
	require.NoError(t, err)
	assert.Equal(t, user.UserID, info.Subject)
	resp, err := ts.Client().Get(srv.ManagementURL() + "/orgs/me")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	cc := serviceuser.ClientCredentialsConfig{ClientID: secretUser.Username, ClientSecret: serviceuser.Secret(secret),
		Issuer: issuer, Route: serviceuser.Route{Address: address, Header: extra}, HTTPClient: hc}
	_, err = cc.Token(ctx)
	require.NoError(t, err)

	patCfg := serviceuser.PATConfig{PAT: serviceuser.Secret(pat), Issuer: issuer, Route: serviceuser.Route{Address: address, Header: extra}, HTTPClient: hc}
	info, err = userinfo.Fetch(ctx, patCfg.Client(ctx), srv.UserinfoURL())
	require.NoError(t, err)
	assert.Equal(t, user.UserID, info.Subject)

	in, err := introspection.Config{Key: appKey, Issuer: issuer, Route: serviceuser.Route{Address: address, Header: extra}, HTTPClient: hc}.NewIntrospector(ctx)
	require.NoError(t, err)
	result, err := in.Introspect(ctx, tok.AccessToken)
	require.NoError(t, err)
	assert.True(t, result.Active)

	seen := sent.requests()
	paths := map[string]bool{}
	for _, r := range seen {
		paths[r.URL.Path] = true
		assert.Equal(t, srv.ListenerHost(), r.URL.Host, r.URL.Path)
		assert.Equal(t, strings.TrimPrefix(issuer, "http://"), r.Header.Get(serviceusertest.InstanceHostHeader), r.URL.Path)
		assert.Equal(t, "auth.example.com", r.Header.Get("X-Zitadel-Public-Host"), r.URL.Path)
	}
	for _, p := range []string{"/.well-known/openid-configuration", "/oauth/v2/token", "/oidc/v1/userinfo", "/management/v1/orgs/me", "/oauth/v2/introspect"} {
		assert.True(t, paths[p], "no request to %s", p)
	}
}

// TestAddressLeavesOtherOriginsAlone: API requests through Client to another
// origin than the issuer's keep their URL and get neither the instance header
// nor the extra headers; a header the caller set is not replaced.
func TestAddressLeavesOtherOriginsAlone(t *testing.T) {
	srv, issuer, address := inClusterFake(t)
	key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
	require.NoError(t, err)
	sent := passthrough()
	sent.serve("api.example.com", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	cfg := serviceuser.Config{Key: key, Issuer: issuer, HTTPClient: &http.Client{Transport: sent},
		Route: serviceuser.Route{Address: address, Header: http.Header{"X-Zitadel-Public-Host": {"auth.example.com"}}}}
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()

	resp, err := ts.Client().Get("https://api.example.com/v1/things")
	require.NoError(t, err)
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.ManagementURL()+"/orgs/me", nil)
	req.Header.Set("X-Zitadel-Public-Host", "chosen.example.com")
	resp, err = ts.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()

	var api, mgmt *http.Request
	for _, r := range sent.requests() {
		switch r.URL.Path {
		case "/v1/things":
			api = r
		case "/management/v1/orgs/me":
			mgmt = r
		}
	}
	require.NotNil(t, api)
	assert.Equal(t, "https://api.example.com/v1/things", api.URL.String())
	assert.Empty(t, api.Header.Get("x-zitadel-instance-host"))
	assert.Empty(t, api.Header.Get("X-Zitadel-Public-Host"))
	assert.True(t, strings.HasPrefix(api.Header.Get("Authorization"), "Bearer "), "Client sends the token to any https API")
	require.NotNil(t, mgmt)
	assert.Equal(t, srv.ListenerHost(), mgmt.URL.Host)
	assert.Equal(t, "chosen.example.com", mgmt.Header.Get("X-Zitadel-Public-Host"))
}

// TestPlainHTTPAddressNeedsOptIn: an in-cluster plain-http address is refused
// with ErrInsecureURL, before any request, by every config, unless
// Route.InsecureAllowPlainHTTP is set.
func TestPlainHTTPAddressNeedsOptIn(t *testing.T) {
	key, appKey := fakeKeys(t)
	counter := &countingTransport{}
	hc := &http.Client{Transport: counter}
	const issuer = "https://auth.example.com"
	route := serviceuser.Route{Address: "http://zitadel.zitadel.svc:8080"}
	ctx := context.Background()
	configs := map[string]interface{ Validate() error }{
		"Config":                  serviceuser.Config{Key: key, Issuer: issuer, Route: route, HTTPClient: hc},
		"ClientCredentialsConfig": serviceuser.ClientCredentialsConfig{ClientID: "u", ClientSecret: serviceuser.Secret("s"), Issuer: issuer, Route: route, HTTPClient: hc},
		"PATConfig":               serviceuser.PATConfig{PAT: serviceuser.Secret("pat-token-value"), Issuer: issuer, Route: route, HTTPClient: hc},
		"introspection.Config":    introspection.Config{Key: appKey, Issuer: issuer, Route: route, HTTPClient: hc},
	}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			requireInsecureURLRefusal(t, cfg.Validate(), name+".Route.Address")
			switch c := cfg.(type) {
			case interface {
				TokenSource(context.Context) *serviceuser.TokenSource
			}:
				ts := c.TokenSource(ctx)
				defer ts.Close()
				_, err := ts.Token()
				assert.ErrorIs(t, err, serviceuser.ErrInsecureURL)
				_, err = ts.Client().Get(issuer + "/management/v1/orgs/me")
				assert.ErrorIs(t, err, serviceuser.ErrInsecureURL)
			case introspection.Config:
				_, err := c.NewIntrospector(ctx)
				assert.ErrorIs(t, err, serviceuser.ErrInsecureURL)
			}
		})
	}
	assert.Zero(t, counter.n, "no request is made")
}

// clusterZitadel answers for the public issuer https://auth.example.com at
// the in-cluster address, as ZITADEL does with the instance header: discovery
// names the public host, and a token is issued for any request.
func clusterZitadel(t *testing.T) *recorder {
	const public = "https://auth.example.com"
	return newRecorder(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-zitadel-instance-host") != "auth.example.com" {
			http.Error(w, "Instance not found.", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q,"userinfo_endpoint":%q}`, public, public+"/oauth/v2/token", public+"/oidc/v1/userinfo")
		case "/oauth/v2/token":
			io.WriteString(w, `{"access_token":"cluster-token","token_type":"Bearer","expires_in":3600}`)
		default:
			io.WriteString(w, `{}`)
		}
	}))
}

// TestPlainHTTPAddressWithOptIn: with Route.InsecureAllowPlainHTTP, a public https
// issuer is reached at a plain-http in-cluster address; Client may send the
// token over plain http to that address, and to no other host.
func TestPlainHTTPAddressWithOptIn(t *testing.T) {
	key, _ := fakeKeys(t)
	zitadel := clusterZitadel(t)
	cfg := serviceuser.Config{Key: key, Issuer: "https://auth.example.com", HTTPClient: zitadel.client(),
		Route: serviceuser.Route{Address: "http://zitadel.zitadel.svc:8080/", InsecureAllowPlainHTTP: true}}
	require.NoError(t, cfg.Validate())
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()
	tok, err := ts.Token()
	require.NoError(t, err)
	assert.Equal(t, "cluster-token", tok.AccessToken)

	for _, u := range []string{"https://auth.example.com/management/v1/orgs/me", "http://zitadel.zitadel.svc:8080/management/v1/orgs/me"} {
		resp, err := ts.Client().Get(u)
		require.NoError(t, err, u)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, u)
	}
	_, err = ts.Client().Get("http://other.zitadel.svc:8080/")
	assert.ErrorIs(t, err, serviceuser.ErrInsecureURL, "the opt-in covers ZITADEL's origins only")
	assert.ErrorContains(t, err, "InsecureAllowPlainHTTP")

	for _, r := range zitadel.requests() {
		assert.Equal(t, "http://zitadel.zitadel.svc:8080", r.URL.Scheme+"://"+r.URL.Host, r.URL.Path)
		assert.Equal(t, "auth.example.com", r.Header.Get("x-zitadel-instance-host"), r.URL.Path)
	}
	assert.Len(t, zitadel.requests(), 4)
}

// TestHeaderCannotOverrideLibraryHeaders: extra headers that would replace
// the token, the instance header, the host or the token request's content
// type, or that are malformed, are refused by every config's Validate,
// without repeating their value.
func TestHeaderCannotOverrideLibraryHeaders(t *testing.T) {
	key, appKey := fakeKeys(t)
	const value = "header-value-7d1e"
	bad := []http.Header{
		{"Authorization": {value}},
		{"authorization": {value}},
		{"Proxy-Authorization": {value}},
		{"X-Zitadel-Instance-Host": {value}},
		{"x-zitadel-instance-host": {value}},
		{"Content-Type": {value}},
		{"Host": {value}},
		{"Bad Name": {value}},
		{"X-Ok": {value + "\r\nAuthorization: Bearer x"}},
	}
	const issuer = "https://auth.example.com"
	for _, h := range bad {
		configs := map[string]interface{ Validate() error }{
			"Config":                  serviceuser.Config{Key: key, Issuer: issuer, Route: serviceuser.Route{Header: h}},
			"ClientCredentialsConfig": serviceuser.ClientCredentialsConfig{ClientID: "u", ClientSecret: serviceuser.Secret("s"), Issuer: issuer, Route: serviceuser.Route{Header: h}},
			"PATConfig":               serviceuser.PATConfig{PAT: serviceuser.Secret("pat-token-value"), Issuer: issuer, Route: serviceuser.Route{Header: h}},
			"introspection.Config":    introspection.Config{Key: appKey, Issuer: issuer, Route: serviceuser.Route{Header: h}},
		}
		for name, cfg := range configs {
			err := cfg.Validate()
			var ce *serviceuser.ConfigError
			if assert.ErrorAs(t, err, &ce, "%s %v", name, h) {
				assert.Equal(t, name+".Route.Header", ce.Config+"."+ce.Field)
				assert.NotContains(t, err.Error(), value)
			}
		}
	}
	ok := http.Header{"X-Zitadel-Public-Host": {"auth.example.com"}, "X-Request-Source": {"billing"}}
	assert.NoError(t, serviceuser.Config{Key: key, Issuer: issuer, Route: serviceuser.Route{Header: ok}}.Validate())
}

// TestAddressAndHeaderNeedAnIssuer: a PATConfig, whose Issuer is otherwise
// optional, needs one to know which requests are ZITADEL's; an Address must
// be an origin.
func TestAddressAndHeaderNeedAnIssuer(t *testing.T) {
	for name, cfg := range map[string]serviceuser.PATConfig{
		"Address": {PAT: serviceuser.Secret("pat-token-value"), Route: serviceuser.Route{Address: "https://zitadel.internal"}},
		"Header":  {PAT: serviceuser.Secret("pat-token-value"), Route: serviceuser.Route{Header: http.Header{"X-A": {"b"}}}},
		"opt-in":  {PAT: serviceuser.Secret("pat-token-value"), Route: serviceuser.Route{InsecureAllowPlainHTTP: true}},
	} {
		var ce *serviceuser.ConfigError
		require.ErrorAs(t, cfg.Validate(), &ce, name)
		assert.Equal(t, "Issuer", ce.Field, name)
	}
	key, _ := fakeKeys(t)
	for _, address := range []string{"https://zitadel.internal/base", "https://zitadel.internal?x=1", "zitadel.internal:8080", "ftp://zitadel.internal"} {
		var ce *serviceuser.ConfigError
		require.ErrorAs(t, serviceuser.Config{Key: key, Issuer: "https://auth.example.com", Route: serviceuser.Route{Address: address}}.Validate(), &ce, address)
		assert.Equal(t, "Route.Address", ce.Field, address)
	}
}
