package serviceusertest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestZitadelManagementMembership checks the Management API's answers for a
// user without a membership and for one whose role lacks the permission,
// as measured on ZITADEL v4.13.1.
func TestZitadelManagementMembership(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	tok := requireIssued(t, grantWithScope(t, s, u, time.Now(), "openid "+ScopeZitadelAPI))
	pat := s.NewPersonalAccessToken(u.UserID, time.Time{})

	s.SetMembership(u.UserID, MembershipNone)
	for _, token := range []string{tok, pat} {
		r := managementGet(t, s, "/orgs/me", token, "")
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
		assert.JSONEq(t, `{"code":5,"message":"membership not found (AUTHZ-cdgFk)"}`, r.raw)
	}
	requireTokenInvalid(t, managementGet(t, s, "/orgs/me", "made-up", ""))

	s.SetMembership(u.UserID, MembershipWithoutPermission)
	r := managementGet(t, s, "/orgs/me", tok, "")
	require.Equal(t, http.StatusForbidden, r.status, r.raw)
	assert.JSONEq(t, `{"code":7,"message":"No matching permissions found (AUTH-5mWD2)"}`, r.raw)

	s.SetMembership(u.UserID, MembershipOwner)
	r = managementGet(t, s, "/orgs/me", tok, "")
	require.Equal(t, http.StatusOK, r.status, r.raw)

	other := s.NewServiceUser()
	otherTok := requireIssued(t, grantWithScope(t, s, other, time.Now(), "openid "+ScopeZitadelAPI))
	assert.Equal(t, http.StatusOK, managementGet(t, s, "/orgs/me", otherTok, "").status, "a new user is an owner")
	assert.Panics(t, func() { s.SetMembership("no-such-user", MembershipNone) })
}
