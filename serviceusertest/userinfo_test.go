package serviceusertest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func userinfo(t *testing.T, s *Server, token string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.UserinfoURL(), nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, s, req)
}

func TestUserinfoRejects(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	tok := requireIssued(t, grant(t, s, signAs(t, u, claimsFor(s, u, time.Now()))))

	s.RevokeToken(tok)
	for _, token := range []string{tok, "made-up"} {
		r := userinfo(t, s, token)
		require.Equal(t, http.StatusUnauthorized, r.status)
		require.Empty(t, r.header.Get("WWW-Authenticate"))
		require.Equal(t, "access_denied", r.json["error"])
	}
}

func TestDiscovery(t *testing.T) {
	s := newServer(t)
	req, err := http.NewRequest(http.MethodGet, s.Issuer()+"/.well-known/openid-configuration", nil)
	require.NoError(t, err)
	r := do(t, s, req)
	require.Equal(t, http.StatusOK, r.status)
	require.False(t, strings.HasSuffix(s.Issuer(), "/"))
	assert.Equal(t, s.Issuer(), r.json["issuer"])
	assert.Equal(t, s.TokenURL(), r.json["token_endpoint"])
	assert.Equal(t, s.UserinfoURL(), r.json["userinfo_endpoint"])
	assert.Equal(t, s.Issuer()+"/oauth/v2/keys", r.json["jwks_uri"])
	assert.Subset(t, r.json["grant_types_supported"], []any{GrantTypeJWTBearer, "client_credentials"})

	keys, err := http.NewRequest(http.MethodGet, s.Issuer()+"/oauth/v2/keys", nil)
	require.NoError(t, err)
	var set struct{ Keys []map[string]any }
	require.NoError(t, json.Unmarshal([]byte(do(t, s, keys).raw), &set))
	require.Len(t, set.Keys, 2, "the active key and the next")
	for _, k := range set.Keys {
		assert.Equal(t, "RSA", k["kty"])
		assert.Equal(t, "RS256", k["alg"])
	}
}

func TestDiscoveryListsAuthMethods(t *testing.T) {
	s := newServer(t)
	req, err := http.NewRequest(http.MethodGet, s.Issuer()+discoveryPath, nil)
	require.NoError(t, err)
	r := do(t, s, req)
	require.Equal(t, http.StatusOK, r.status)
	assert.Subset(t, r.json["grant_types_supported"], []any{GrantTypeClientCredentials, GrantTypeJWTBearer})
	assert.Subset(t, r.json["token_endpoint_auth_methods_supported"],
		[]any{"client_secret_basic", "client_secret_post", "private_key_jwt"})
	assert.Equal(t, s.IntrospectionURL(), r.json["introspection_endpoint"])
}

func TestZitadelUserinfoErrors(t *testing.T) {
	s := newServer(t)
	for token, want := range map[string]string{
		"made-up": `{"error":"access_denied","error_description":"access token invalid"}`,
		"":        `{"error":"invalid_request","error_description":"access token missing"}`,
	} {
		r := userinfo(t, s, token)
		require.Equal(t, http.StatusUnauthorized, r.status)
		assert.Equal(t, want, r.raw)
		assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		assert.NotContains(t, r.header, "Www-Authenticate")
	}
}

func TestZitadelUserinfoClaimsByScope(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	cases := map[string][]string{
		"openid":               {"sub"},
		"openid profile":       {"name", "preferred_username", "sub"},
		"openid email":         {"email", "sub"},
		"openid profile email": {"email", "name", "preferred_username", "sub"},
	}
	for scope, want := range cases {
		tok := requireIssued(t, grantWithScope(t, s, u, time.Now(), scope))
		r := userinfo(t, s, tok)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, want, fields(r.json), scope)
		assert.Equal(t, u.UserID, r.json["sub"])
	}
	r := userinfo(t, s, requireIssued(t, grantWithScope(t, s, u, time.Now(), "openid profile")))
	assert.Equal(t, u.Username, r.json["preferred_username"])
}
