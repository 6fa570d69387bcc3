package serviceusertest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func managementGet(t *testing.T, s *Server, path, token, orgID string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.ManagementURL()+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if orgID != "" {
		req.Header.Set(OrgIDHeader, orgID)
	}
	return do(t, s, req)
}

func requireTokenInvalid(t *testing.T, r response) {
	t.Helper()
	require.Equal(t, http.StatusUnauthorized, r.status, r.raw)
	assert.Equal(t, "Errors.Token.Invalid (AUTH-7fs1e)", r.header.Get("Www-Authenticate"))
	assert.Equal(t, float64(16), r.json["code"])
	assert.Equal(t, "Errors.Token.Invalid (AUTH-7fs1e)", r.json["message"])
}

func TestZitadelManagementAPI(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	requireTokenInvalid(t, managementGet(t, s, "/orgs/me", "made-up", ""))
	noAud := requireIssued(t, grantWithScope(t, s, u, time.Now(), "openid"))
	requireTokenInvalid(t, managementGet(t, s, "/orgs/me", noAud, ""))
	r := managementGet(t, s, "/orgs/me", "", "")
	require.Equal(t, http.StatusUnauthorized, r.status)
	assert.JSONEq(t, `{"code":16,"message":"auth header missing"}`, r.raw)

	tok := requireIssued(t, grantWithScope(t, s, u, time.Now(), "openid "+ScopeZitadelAPI))
	r = managementGet(t, s, "/orgs/me", tok, "")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	org := r.json["org"].(map[string]any)
	assert.Equal(t, u.OrgID, org["id"])
	assert.Equal(t, "ZITADEL", org["name"])
	assert.Equal(t, "ORG_STATE_ACTIVE", org["state"])

	other := s.NewOrganization("Other Org")
	r = managementGet(t, s, "/orgs/me", tok, other)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, other, r.json["org"].(map[string]any)["id"])
	assert.Equal(t, "Other Org", r.json["org"].(map[string]any)["name"])

	assert.Equal(t, http.StatusNotFound, managementGet(t, s, "/orgs/me", tok, "42").status)
	assert.Equal(t, http.StatusNotFound, managementGet(t, s, "/users/_nope", tok, "").status)
}

func TestZitadelDeletedPAT(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	pat := s.NewPersonalAccessToken(u.UserID, time.Time{})
	require.Equal(t, http.StatusOK, managementGet(t, s, "/orgs/me", pat, "").status)
	require.Equal(t, http.StatusOK, userinfo(t, s, pat).status)
	s.RevokeToken(pat)
	requireTokenInvalid(t, managementGet(t, s, "/orgs/me", pat, ""))
	assert.Equal(t, http.StatusUnauthorized, userinfo(t, s, pat).status)
}
