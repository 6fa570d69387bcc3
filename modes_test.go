package serviceuser_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/bearer"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
)

func TestClientCredentials(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	user, secret := srv.NewServiceUserWithSecret()
	cfg := serviceuser.ClientCredentialsConfig{
		ClientID: user.Username, ClientSecret: serviceuser.Secret(secret),
		Issuer: srv.Issuer(), Scopes: []string{"openid", scope.ZitadelAPI},
	}
	require.NoError(t, cfg.Validate())
	info, err := userinfo.Fetch(context.Background(), client(t, cfg), srv.UserinfoURL())
	require.NoError(t, err)
	assert.Equal(t, user.UserID, info.Subject)

	ts := cfg.TokenSource(context.Background())
	defer ts.Close()
	for range 5 {
		_, err := ts.Token()
		require.NoError(t, err)
	}
	assert.Equal(t, 2, srv.TokenRequests(), "cached like the key-based source")

	cfg.ClientSecret = serviceuser.Secret("wrong")
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
		"no client id": {ClientSecret: serviceuser.Secret("s"), Issuer: "https://z.example.com"},
		"no secret":    {ClientID: "c", Issuer: "https://z.example.com"},
		"no issuer":    {ClientID: "c", ClientSecret: serviceuser.Secret("s")},
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

	info, err := userinfo.Fetch(context.Background(), c, srv.UserinfoURL())
	require.NoError(t, err)
	assert.Equal(t, user.UserID, info.Subject)

	srv.RevokeToken(pat)
	_, err = userinfo.Fetch(context.Background(), c, srv.UserinfoURL())
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

func TestOrgIDHeader(t *testing.T) {
	var got string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get(bearer.HeaderOrgID) }))
	defer api.Close()
	c := serviceuser.PATConfig{PAT: serviceuser.Secret("pat-token-value"), OrgID: "org-42"}.Client(context.Background())
	resp, err := c.Get(api.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "org-42", got)
}

func mustKey(t *testing.T, data []byte) *serviceuser.KeyFile {
	k, err := serviceuser.ParseKeyFile(data)
	require.NoError(t, err)
	return k
}
