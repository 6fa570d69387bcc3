package serviceusertest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The scope for every project's roles, and the role claim introspection adds
// besides the per-project one, spelled out here to pin them.
const (
	allRoles   = "urn:zitadel:iam:org:projects:roles"
	anyProject = "urn:zitadel:iam:org:project:roles"
)

func scopeRole(role string) string { return "urn:zitadel:iam:org:project:role:" + role }

func projectRoles(projectID string) string {
	return "urn:zitadel:iam:org:project:" + projectID + ":roles"
}

// roleClaims picks the role claims out of c.
func roleClaims(c map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range c {
		if strings.HasPrefix(k, "urn:zitadel:iam:org:project:") && strings.HasSuffix(k, ":roles") {
			out[k] = v
		}
	}
	return out
}

// granted is the value of a role claim: each role with the user's
// organization, by ID, and its primary domain.
func granted(s *Server, u *ServiceUser, roles ...string) map[string]any {
	domain := "zitadel." + hostname(s.instanceHost()) // every user is in the org "ZITADEL"
	out := map[string]any{}
	for _, r := range roles {
		out[r] = map[string]any{u.OrgID: domain}
	}
	return out
}

// Introspection by an API application of P adds the roles granted in P in
// both forms, whatever role scopes were asked; a role scope narrows them.
func TestZitadelIntrospectionRoles(t *testing.T) {
	s := newServer(t)
	u, app := s.NewServiceUser(), s.NewApplication()
	s.GrantRole(u.UserID, app.ProjectID, "admin", "viewer")
	both := func(v map[string]any) map[string]any {
		return map[string]any{projectRoles(app.ProjectID): v, anyProject: v}
	}
	aud := app.AudienceScope()
	for scope, want := range map[string]map[string]any{
		"openid " + aud:                                                    both(granted(s, u, "admin", "viewer")),
		"openid " + allRoles + " " + aud:                                   both(granted(s, u, "admin", "viewer")),
		"openid " + scopeRole("admin") + " " + aud:                         both(granted(s, u, "admin")),
		"openid " + scopeRole("viewer") + " " + scopeRole("x") + " " + aud: both(granted(s, u, "viewer")),
		"openid " + scopeRole("reader") + " " + aud:                        {},
	} {
		tok := requireIssued(t, grantWithScope(t, s, u, time.Now(), scope))
		r := introspectOK(t, s, app, time.Now(), tok)
		require.Equal(t, true, r.json["active"])
		assert.Equal(t, want, roleClaims(r.json), scope)
	}

	// A user without a grant in P gets no role claim; a grant made after
	// the token was issued shows at the next introspection.
	other := s.NewServiceUser()
	tok := requireIssued(t, grantWithScope(t, s, other, time.Now(), "openid "+aud))
	assert.Empty(t, roleClaims(introspectOK(t, s, app, time.Now(), tok).json))
	s.GrantRole(other.UserID, app.ProjectID, "reader")
	s.GrantRole(other.UserID, app.ProjectID, "reader")
	assert.Equal(t, both(granted(s, other, "reader")), roleClaims(introspectOK(t, s, app, time.Now(), tok).json))
}

// Each project's API application sees only its own project's roles.
func TestZitadelIntrospectionRolesPerProject(t *testing.T) {
	s := newServer(t)
	u, p, q := s.NewServiceUser(), s.NewApplication(), s.NewApplication()
	s.GrantRole(u.UserID, p.ProjectID, "admin")
	s.GrantRole(u.UserID, q.ProjectID, "reader")
	tok := requireIssued(t, grantWithScope(t, s, u, time.Now(), "openid "+allRoles+" "+p.AudienceScope()+" "+q.AudienceScope()))
	for app, role := range map[*Application]string{p: "admin", q: "reader"} {
		want := granted(s, u, role)
		assert.Equal(t, map[string]any{projectRoles(app.ProjectID): want, anyProject: want},
			roleClaims(introspectOK(t, s, app, time.Now(), tok).json), role)
	}
}

// Userinfo and the ID token carry roles only when a role scope asks for
// them, one claim per project in the audience, in the per-project form only.
func TestZitadelUserinfoAndIDTokenRoles(t *testing.T) {
	s := newServer(t)
	u, p, q, none := s.NewServiceUser(), s.NewApplication(), s.NewApplication(), s.NewApplication()
	s.GrantRole(u.UserID, p.ProjectID, "admin", "viewer")
	s.GrantRole(u.UserID, q.ProjectID, "reader")
	aud := p.AudienceScope() + " " + q.AudienceScope() + " " + none.AudienceScope()
	for scope, want := range map[string]map[string]any{
		"openid " + aud: {},
		"openid " + allRoles + " " + aud: {
			projectRoles(p.ProjectID): granted(s, u, "admin", "viewer"),
			projectRoles(q.ProjectID): granted(s, u, "reader"),
		},
		"openid " + scopeRole("viewer") + " " + aud:                  {projectRoles(p.ProjectID): granted(s, u, "viewer")},
		"openid " + scopeRole("nobody") + " " + aud:                  {},
		"openid " + allRoles + " " + p.AudienceScope():               {projectRoles(p.ProjectID): granted(s, u, "admin", "viewer")},
		"openid " + allRoles + " " + scopeRole("reader") + " " + aud: {projectRoles(q.ProjectID): granted(s, u, "reader")},
	} {
		r := grantWithScope(t, s, u, time.Now(), scope)
		tok := requireIssued(t, r)
		assert.Equal(t, want, roleClaims(userinfo(t, s, tok).json), "userinfo, %s", scope)
		assert.Equal(t, want, roleClaims(verifyJWT(t, s, r.json["id_token"].(string))), "id_token, %s", scope)
	}
}

func TestGrantRoleRefusesUnknowns(t *testing.T) {
	s := newServer(t)
	u, app := s.NewServiceUser(), s.NewApplication()
	assert.PanicsWithValue(t, `serviceusertest: GrantRole: unknown user "nobody"`, func() { s.GrantRole("nobody", app.ProjectID, "admin") })
	assert.PanicsWithValue(t, `serviceusertest: GrantRole: unknown project "1"`, func() { s.GrantRole(u.UserID, "1", "admin") })
}
