package serviceuser_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

func TestClientCredentials(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	user, secret := srv.NewServiceUserWithSecret()
	cfg := serviceuser.ClientCredentialsConfig{
		ClientID: user.Username, ClientSecret: serviceuser.Secret(secret),
		Issuer: srv.Issuer(), Scopes: []string{"openid", serviceuser.ScopeZitadelAPI},
	}
	require.NoError(t, cfg.Validate())
	info, err := serviceuser.FetchUserinfo(context.Background(), client(t, cfg), srv.UserinfoURL())
	require.NoError(t, err)
	assert.Equal(t, user.UserID, info.Subject)

	ts := cfg.TokenSource(context.Background())
	defer ts.Close()
	for range 5 {
		_, err := ts.Token()
		require.NoError(t, err)
	}
	assert.Equal(t, 2, srv.TokenRequests(), "cached like the key-based source")

	cfg.ClientSecret = "wrong"
	_, err = tokenSourceOf(t, cfg).Token()
	var te *serviceuser.TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, http.StatusBadRequest, te.StatusCode)
	assert.Equal(t, "invalid_request", te.Code)
	assert.Equal(t, "Errors.User.Machine.Secret.Invalid", te.Description)
	assert.True(t, te.Permanent())
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, cfg, cfg.ClientSecret), secret)
}

func tokenSourceOf(t *testing.T, cfg interface {
	TokenSource(context.Context) *serviceuser.TokenSource
}) *serviceuser.TokenSource {
	ts := cfg.TokenSource(context.Background())
	t.Cleanup(func() { ts.Close() })
	return ts
}

func TestClientCredentialsConfigErrors(t *testing.T) {
	for name, cfg := range map[string]serviceuser.ClientCredentialsConfig{
		"no client id": {ClientSecret: "s", Issuer: "https://z.example.com"},
		"no secret":    {ClientID: "c", Issuer: "https://z.example.com"},
		"no issuer":    {ClientID: "c", ClientSecret: "s"},
	} {
		var ce *serviceuser.ConfigError
		assert.ErrorAs(t, cfg.Validate(), &ce, name)
		_, err := tokenSourceOf(t, cfg).Token()
		assert.ErrorAs(t, err, &ce, name)
	}
}

func TestPersonalAccessToken(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	user := srv.NewServiceUser()
	pat := srv.NewPersonalAccessToken(user.UserID, time.Time{})
	cfg := serviceuser.PATConfig{PAT: serviceuser.Secret(pat)}
	c := cfg.Client(context.Background())

	info, err := serviceuser.FetchUserinfo(context.Background(), c, srv.UserinfoURL())
	require.NoError(t, err)
	assert.Equal(t, user.UserID, info.Subject)

	srv.RevokeToken(pat)
	_, err = serviceuser.FetchUserinfo(context.Background(), c, srv.UserinfoURL())
	assert.ErrorIs(t, err, serviceuser.ErrPATRejected)
	assert.NotContains(t, fmt.Sprintf("%v %+v", err, cfg), pat)

	expired := serviceuser.PATConfig{PAT: serviceuser.Secret(pat), Expiry: time.Now().Add(-time.Second)}
	_, err = expired.TokenSource(context.Background()).Token()
	assert.ErrorIs(t, err, serviceuser.ErrPATExpired)
}

func TestPATLoaders(t *testing.T) {
	path := t.TempDir() + "/pat"
	require.NoError(t, writeFile(path, "  pat-value-123\n"))
	s, err := serviceuser.ReadPAT(path)
	require.NoError(t, err)
	assert.Equal(t, "pat-value-123", string(s))
	t.Setenv("SU_PAT", "pat-value-456")
	s, err = serviceuser.PATFromEnv("SU_PAT")
	require.NoError(t, err)
	assert.Equal(t, "pat-value-456", string(s))
	t.Setenv("SU_PAT", "two words")
	_, err = serviceuser.PATFromEnv("SU_PAT")
	assert.ErrorContains(t, err, "white space")
}

func TestSecretNeverPrints(t *testing.T) {
	s := serviceuser.Secret("hunter2-very-secret")
	out := printed(s) + printed(struct{ S serviceuser.Secret }{s}) + printed(serviceuser.PATConfig{PAT: s})
	assert.NotContains(t, out, "hunter2")
	assert.Contains(t, out, "[redacted]")
}

// introspectionSetup makes an API application and a service user's token
// for the application's project.
func introspectionSetup(t *testing.T) (*serviceusertest.Server, *serviceuser.Introspector, string, *serviceusertest.ServiceUser, *serviceusertest.Application) {
	srv := serviceusertest.NewServer()
	t.Cleanup(srv.Close)
	app := srv.NewApplication()
	key, err := serviceuser.ParseKeyFile(app.KeyFile)
	require.NoError(t, err)
	in, err := serviceuser.IntrospectionConfig{Key: key, Issuer: srv.Issuer()}.NewIntrospector(context.Background())
	require.NoError(t, err)
	_, user, cfg := setupOn(t, srv, serviceusertest.KeyRSA)
	cfg.Scopes = append(cfg.Scopes, app.AudienceScope())
	tok, err := tokenSource(t, cfg).Token()
	require.NoError(t, err)
	return srv, in, tok.AccessToken, user, app
}

func TestIntrospect(t *testing.T) {
	srv, in, token, user, _ := introspectionSetup(t)
	r, err := in.Introspect(context.Background(), token)
	require.NoError(t, err)
	assert.True(t, r.Active)
	assert.Equal(t, user.UserID, r.Subject)
	assert.Greater(t, r.ExpiresAt, time.Now().Unix())

	r, err = in.Introspect(context.Background(), "not-a-token")
	require.NoError(t, err)
	assert.False(t, r.Active)
	assert.Equal(t, 2, srv.IntrospectionRequests())

	_, err = in.Introspect(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.IntrospectionRequests(), "active result cached")
}

func TestIntrospectWithWrongClientAssertion(t *testing.T) {
	srv, _, token, _, _ := introspectionSetup(t)
	other := serviceusertest.NewServer() // its application is unknown to srv
	defer other.Close()
	key, err := serviceuser.ParseKeyFile(other.NewApplication().KeyFile)
	require.NoError(t, err)
	in, err := serviceuser.IntrospectionConfig{Key: key, Issuer: srv.Issuer()}.NewIntrospector(context.Background())
	require.NoError(t, err)
	// ZITADEL answers a refused client assertion as it answers an inactive token.
	r, err := in.Introspect(context.Background(), token)
	require.NoError(t, err)
	assert.False(t, r.Active)

	_, err = serviceuser.IntrospectionConfig{Key: mustKey(t, srv.NewServiceUser().KeyFile), Issuer: srv.Issuer()}.NewIntrospector(context.Background())
	var ce *serviceuser.ConfigError
	assert.ErrorAs(t, err, &ce, "a service user key cannot authenticate an API")
}

func mustKey(t *testing.T, data []byte) *serviceuser.KeyFile {
	k, err := serviceuser.ParseKeyFile(data)
	require.NoError(t, err)
	return k
}

func TestMiddleware(t *testing.T) {
	srv, in, token, user, app := introspectionSetup(t)
	api := httptest.NewServer(in.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, ok := serviceuser.IntrospectionFromContext(r.Context())
		if ok {
			io.WriteString(w, info.Subject)
		}
	})))
	defer api.Close()
	call := func(auth string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, api.URL, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}

	resp, _ := call("")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "Bearer", resp.Header.Get("WWW-Authenticate"))
	resp, _ = call("Bearer not-active")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer error="invalid_token"`, resp.Header.Get("WWW-Authenticate"))
	resp, body := call("Bearer " + token)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, user.UserID, body)

	// Concurrent requests with a new token: one introspection between them.
	otherCfg := configFor(t, srv, srv.NewServiceUser())
	otherCfg.Scopes = append(otherCfg.Scopes, app.AudienceScope())
	other, err := tokenSource(t, otherCfg).Token()
	require.NoError(t, err)
	before := srv.IntrospectionRequests()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			resp, _ := call("Bearer " + other.AccessToken)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
	wg.Wait()
	assert.Equal(t, 1, srv.IntrospectionRequests()-before)
}

func TestMiddlewareWhenIntrospectionFails(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	key := mustKey(t, srv.NewApplication().KeyFile)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	in, err := serviceuser.IntrospectionConfig{Key: key, Issuer: srv.Issuer(), IntrospectionURL: dead.URL, Timeout: time.Second}.NewIntrospector(context.Background())
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer x")
	in.Middleware(http.NotFoundHandler()).ServeHTTP(rec, req)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	_, err = in.Introspect(context.Background(), "x")
	assert.False(t, errors.Is(err, context.Canceled))
	assert.Error(t, err)
}

func TestOrgIDHeader(t *testing.T) {
	var got string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get(serviceuser.HeaderOrgID) }))
	defer api.Close()
	c := serviceuser.PATConfig{PAT: "pat-token-value", OrgID: "org-42"}.Client(context.Background())
	resp, err := c.Get(api.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "org-42", got)
}

func TestScopeHelpers(t *testing.T) {
	assert.Equal(t, "urn:zitadel:iam:org:project:id:123:aud", serviceuser.ScopeProjectAudience("123"))
	assert.Equal(t, "urn:zitadel:iam:org:id:456", serviceuser.ScopeOrganization("456"))
	assert.Equal(t, "urn:zitadel:iam:org:project:role:admin", serviceuser.ScopeProjectRole("admin"))
}
