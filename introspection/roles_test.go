package introspection_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// projectIntrospector checks tokens at srv with app's key, without a cache
// (grants change between calls), reading the roles of projectID ("": the
// generic claim).
func projectIntrospector(t *testing.T, srv *serviceusertest.Server, app *serviceusertest.Application, projectID string) *introspection.Introspector {
	t.Helper()
	in, err := introspection.Config{Key: mustKey(t, app.KeyFile), Issuer: srv.Issuer(), ProjectID: projectID, CacheTTL: -1}.
		NewIntrospector(context.Background())
	require.NoError(t, err)
	return in
}

// introspect is in.Introspect, which must succeed.
func introspect(t *testing.T, in *introspection.Introspector, token string) *introspection.Result {
	t.Helper()
	r, err := in.Introspect(context.Background(), token)
	require.NoError(t, err)
	return r
}

// A granted role reaches the Result, with the user's organization, whether
// the project is configured (its own claim) or not (the generic claim); a
// role not granted, or granted in another organization, does not count.
func TestResultRoles(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	app := srv.NewApplication()
	other := srv.NewOrganization("Other Org")

	for name, projectID := range map[string]string{"project configured": app.ProjectID, "generic claim": ""} {
		t.Run(name, func(t *testing.T) {
			user, token := serviceUserToken(t, srv, app.AudienceScope())
			in := projectIntrospector(t, srv, app, projectID)
			r := introspect(t, in, token)
			require.True(t, r.Active)
			assert.Empty(t, r.Roles(), "no role granted yet")
			assert.False(t, r.HasRole("admin"))

			srv.GrantRole(user.UserID, app.ProjectID, "admin", "reader")
			r = introspect(t, in, token)
			require.Len(t, r.Roles(), 2)
			require.Len(t, r.Roles()["admin"], 1)
			for orgID, domain := range r.Roles()["admin"] {
				assert.Equal(t, user.OrgID, orgID)
				assert.Contains(t, domain, "zitadel.", "the organization's primary domain")
			}
			assert.True(t, r.HasRole("admin"))
			assert.True(t, r.HasRole("reader"))
			assert.False(t, r.HasRole("writer"))
			assert.False(t, r.HasRole(""))
			assert.True(t, r.HasRoleInOrg("admin", user.OrgID))
			assert.False(t, r.HasRoleInOrg("admin", other), "held in the user's organization only")
			assert.False(t, r.HasRoleInOrg("writer", user.OrgID))
			assert.True(t, r.HasRoleInOrg("admin", ""), "any organization")
		})
	}
}

// A role scope narrows the roles ZITADEL reports: only those named, and
// none at all when none named is granted.
func TestResultRolesNarrowedByRoleScope(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	app := srv.NewApplication()
	in := projectIntrospector(t, srv, app, app.ProjectID)
	user := srv.NewServiceUser()
	srv.GrantRole(user.UserID, app.ProjectID, "admin", "reader")
	tokenWith := func(scopes ...string) string {
		cfg := serviceuser.Config{Key: mustKey(t, user.KeyFile), Issuer: srv.Issuer(), Scopes: append([]string{"openid", app.AudienceScope()}, scopes...)}
		tok, err := cfg.Token(context.Background())
		require.NoError(t, err)
		return tok.AccessToken
	}

	r := introspect(t, in, tokenWith(scope.ProjectRole("reader")))
	assert.True(t, r.HasRole("reader"))
	assert.False(t, r.HasRole("admin"), "not asked for")
	assert.Len(t, r.Roles(), 1)

	r = introspect(t, in, tokenWith(scope.ProjectRole("writer")))
	assert.True(t, r.Active)
	assert.Empty(t, r.Roles(), "the one role asked for is not granted")
	assert.False(t, introspection.RequireAnyRole("reader").MetBy(r))
}

// Each project's API application sees its own project's roles only; with
// ProjectID naming another project than the application's, no roles are
// found, rather than the application's own under another project's name.
func TestResultRolesPerProject(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	shop, billing := srv.NewApplication(), srv.NewApplication()
	user, token := serviceUserToken(t, srv, shop.AudienceScope(), billing.AudienceScope())
	srv.GrantRole(user.UserID, shop.ProjectID, "admin")
	srv.GrantRole(user.UserID, billing.ProjectID, "reader")

	for _, tc := range []struct {
		name      string
		app       *serviceusertest.Application
		projectID string
		roles     []string
	}{
		{"shop", shop, shop.ProjectID, []string{"admin"}},
		{"shop, generic claim", shop, "", []string{"admin"}},
		{"billing", billing, billing.ProjectID, []string{"reader"}},
		{"billing, generic claim", billing, "", []string{"reader"}},
		{"shop's key, billing's project", shop, billing.ProjectID, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := introspect(t, projectIntrospector(t, srv, tc.app, tc.projectID), token)
			require.True(t, r.Active)
			var roles []string
			for role := range r.Roles() {
				roles = append(roles, role)
			}
			assert.ElementsMatch(t, tc.roles, roles)
		})
	}
}

// roleAnswer is an active introspection answer with extra members.
func roleAnswer(extra string) string {
	return `{"active":true,"sub":"user-1","aud":["p1","p2"]` + extra + `}`
}

// With ProjectID the project's own claim counts, whatever the generic one
// says; without it, the generic claim.
func TestResultRolesClaimForms(t *testing.T) {
	const (
		specific = `,"urn:zitadel:iam:org:project:p1:roles":{"admin":{"o1":"one.example"}}`
		generic  = `,"urn:zitadel:iam:org:project:roles":{"reader":{"o2":"two.example"}}`
		p2       = `,"urn:zitadel:iam:org:project:p2:roles":{"writer":{"o1":"one.example"}}`
	)
	admin := map[string]map[string]string{"admin": {"o1": "one.example"}}
	reader := map[string]map[string]string{"reader": {"o2": "two.example"}}
	for _, tc := range []struct {
		name, body, projectID string
		want                  map[string]map[string]string
	}{
		{"both forms, project p1", specific + generic, "p1", admin},
		{"both forms, no project", specific + generic, "", reader},
		{"specific only, project p1", specific, "p1", admin},
		{"specific only, no project", specific, "", nil},
		{"generic only, project p1", generic, "p1", nil},
		{"generic only, no project", generic, "", reader},
		{"another project's claim", p2, "p1", nil},
		{"null", `,"urn:zitadel:iam:org:project:roles":null`, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := fixedAnswerIntrospector(t, roleAnswer(tc.body), tc.projectID)
			r, err := in.Introspect(context.Background(), opaqueToken("token"))
			require.NoError(t, err)
			assert.Equal(t, tc.want, r.Roles())
		})
	}
}

// fixedAnswer is a Config for an in-process fake that answers every
// introspection with body; the cache is off.
func fixedAnswer(t *testing.T, body string) introspection.Config {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(discoveryPath, discoveryHandler(nil))
	mux.HandleFunc("/oauth/v2/introspect", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})
	return introspection.Config{Key: applicationKey(t), Issuer: fakeIssuer, CacheTTL: -1, HTTPClient: newInProcess(mux).client()}
}

// fixedAnswerIntrospector checks tokens at fixedAnswer's fake, reading the
// roles of projectID.
func fixedAnswerIntrospector(t *testing.T, body, projectID string) *introspection.Introspector {
	t.Helper()
	cfg := fixedAnswer(t, body)
	cfg.ProjectID = projectID
	in, err := cfg.NewIntrospector(context.Background())
	require.NoError(t, err)
	return in
}

func TestRequirement(t *testing.T) {
	r := answered(t, `{"active":true,"urn:zitadel:iam:org:project:roles":{
		"admin":{"o1":"one.example","o2":"two.example"},"reader":{"o1":"one.example"}}}`)
	inactive := &introspection.Result{}
	*inactive = *r
	inactive.Active = false // changed by hand: Active decides
	for _, tc := range []struct {
		name string
		q    introspection.Requirement
		met  bool
	}{
		{"zero: any active token", introspection.Requirement{}, true},
		{"any, held", introspection.RequireAnyRole("writer", "reader"), true},
		{"any, none held", introspection.RequireAnyRole("writer", "owner"), false},
		{"any, no roles named", introspection.RequireAnyRole(), false},
		{"all, held", introspection.RequireAllRoles("admin", "reader"), true},
		{"all, one missing", introspection.RequireAllRoles("admin", "writer"), false},
		{"all, no roles named", introspection.RequireAllRoles(), false},
		{"any in org, held there", introspection.RequireAnyRole("reader").InOrg("o1"), true},
		{"any in org, held elsewhere", introspection.RequireAnyRole("reader").InOrg("o2"), false},
		{"all in org, both there", introspection.RequireAllRoles("admin", "reader").InOrg("o1"), true},
		{"all in org, one elsewhere", introspection.RequireAllRoles("admin", "reader").InOrg("o2"), false},
		{"zero in org: names no role", introspection.Requirement{}.InOrg("o1"), false},
		{"empty org: any organization", introspection.RequireAnyRole("reader").InOrg(""), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.met, tc.q.MetBy(r))
			assert.False(t, tc.q.MetBy(inactive), "never by an inactive token")
			assert.False(t, tc.q.MetBy(nil), "never by no result")
		})
	}

	// The roles given are the caller's: changing them later changes nothing.
	roles := []string{"reader"}
	q := introspection.RequireAllRoles(roles...)
	roles[0] = "owner"
	assert.True(t, q.MetBy(r))

	var none *introspection.Result
	assert.False(t, none.HasRole("admin"))
	assert.False(t, none.HasRoleInOrg("admin", "o1"))
	assert.False(t, inactive.HasRole("admin"))
}

// A ProjectID that cannot be a project's ID, such as the audience scope
// pasted in its place, is refused when the config is checked.
func TestConfigProjectID(t *testing.T) {
	for _, id := range []string{scope.ProjectAudience("123"), "123 ", " ", "12\n3"} {
		err := introspection.Config{Key: applicationKey(t), Issuer: fakeIssuer, ProjectID: id}.Validate()
		var ce *serviceuser.ConfigError
		require.ErrorAs(t, err, &ce, "%q", id)
		assert.Equal(t, "ProjectID", ce.Field)
	}
	assert.NoError(t, introspection.Config{Key: applicationKey(t), Issuer: fakeIssuer, ProjectID: "289331442540658691"}.Validate())
}
