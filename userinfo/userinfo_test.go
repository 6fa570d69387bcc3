package userinfo_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestFetchWithDiscoveredEndpoint: Discover names the fake's endpoints, and
// Fetch returns the claims of the token's user.
func TestFetchWithDiscoveredEndpoint(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	user := srv.NewServiceUser()
	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	require.NoError(t, err)
	cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer()}

	ep, err := userinfo.Discover(t.Context(), srv.Issuer(), serviceuser.Route{}, nil)
	require.NoError(t, err)
	assert.Equal(t, srv.UserinfoURL(), ep.UserinfoURL)
	assert.Equal(t, srv.Issuer()+"/oauth/v2/token", ep.TokenURL)

	ts := cfg.TokenSource(context.Background())
	defer ts.Close()
	info, err := userinfo.Fetch(t.Context(), ts.Client(), ep.UserinfoURL)
	require.NoError(t, err)
	assert.Equal(t, user.UserID, info.Subject)
	assert.Equal(t, user.UserID, info.Claims["sub"], "Claims holds every claim")
}

// TestFetchRefusedTokenIsATokenError: a 401 is a *serviceuser.TokenError
// for the userinfo endpoint that does not repeat the token sent.
func TestFetchRefusedTokenIsATokenError(t *testing.T) {
	const token = "a-token-the-endpoint-refuses"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "token "+r.Header.Get("Authorization")+" is invalid", http.StatusUnauthorized)
	}))
	defer api.Close()
	client := &http.Client{Transport: bearerOnly{token: token, base: api.Client().Transport}}

	_, err := userinfo.Fetch(t.Context(), client, api.URL+"/oidc/v1/userinfo")
	var te *serviceuser.TokenError
	require.True(t, errors.As(err, &te), "%T %v", err, err)
	assert.Equal(t, "userinfo", te.Endpoint)
	assert.Equal(t, http.StatusUnauthorized, te.StatusCode)
	assert.NotContains(t, err.Error(), token, "the sent token is removed from what the error keeps")
}

// TestDiscoverRefusesABadIssuer: an issuer that cannot work is a
// *serviceuser.ConfigError naming it, before any request.
func TestDiscoverRefusesABadIssuer(t *testing.T) {
	_, err := userinfo.Discover(t.Context(), "http://zitadel.example.com", serviceuser.Route{}, nil)
	var ce *serviceuser.ConfigError
	require.True(t, errors.As(err, &ce), "%T %v", err, err)
	assert.Equal(t, "issuer", ce.Field)
	assert.ErrorIs(t, err, serviceuser.ErrInsecureURL)

	_, err = userinfo.Discover(t.Context(), "https://zitadel.example.com", serviceuser.Route{Address: "ftp://zitadel"}, nil)
	require.True(t, errors.As(err, &ce), "%T %v", err, err)
	assert.Equal(t, "route.Address", ce.Field)
}

// bearerOnly sends every request with token, as a token source's client
// would.
type bearerOnly struct {
	token string
	base  http.RoundTripper
}

func (b bearerOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}
