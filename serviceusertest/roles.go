package serviceusertest

import (
	"fmt"
	"slices"
	"strings"
)

// Scopes and claims of ZITADEL's project roles.
const (
	// scopeRolePrefix + role key asks for that role only.
	scopeRolePrefix = "urn:zitadel:iam:org:project:role:"
	// scopeAllRoles asks for the roles of every project in the audience.
	scopeAllRoles = "urn:zitadel:iam:org:projects:roles"
	// rolesClaimPrefix + project ID + ":roles" names one project's roles.
	rolesClaimPrefix = "urn:zitadel:iam:org:project:"
	// rolesClaim names the roles in the introspecting application's project.
	rolesClaim = "urn:zitadel:iam:org:project:roles"
)

// GrantRole grants the user the roles in the project projectID (an
// Application's ProjectID), as a user grant in ZITADEL's console does, in the
// user's organization; a role granted twice is held once. Answers read the
// grants when they are given: introspection and userinfo of a token already
// issued show the new roles, an ID token or a JWT access token keeps the
// roles it was signed with.
//
// Introspection by an API application of a project in the token's audience
// adds the user's roles in that project, whatever role scopes the token was
// asked with, under both "urn:zitadel:iam:org:project:{projectID}:roles" and
// "urn:zitadel:iam:org:project:roles", each {"<role>":{"<org ID>":"<org
// primary domain>"}}. Userinfo, the ID token and a JWT access token carry
// roles only for a token asked with "urn:zitadel:iam:org:projects:roles" or
// "urn:zitadel:iam:org:project:role:{role}", one
// "urn:zitadel:iam:org:project:{projectID}:roles" claim per project in the
// audience. Scopes "urn:zitadel:iam:org:project:role:{role}" narrow the roles
// to those named (none granted: no role claim at all). This is what ZITADEL
// v4.13.1 answers.
//
// It panics if the user or the project is unknown.
func (s *Server) GrantRole(userID, projectID string, roles ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.mustUser("GrantRole", userID)
	if _, ok := s.apps[projectID]; !ok {
		panic(fmt.Sprintf("serviceusertest: GrantRole: unknown project %q", projectID))
	}
	if u.roles == nil {
		u.roles = map[string][]string{}
	}
	for _, r := range roles {
		if !slices.Contains(u.roles[projectID], r) {
			u.roles[projectID] = append(u.roles[projectID], r)
		}
	}
}

// roleClaim is the value of a role claim: each of the user's roles in
// projectID that t's scopes allow, with the user's organization by ID and
// primary domain; nil if there is none. s.mu must be held.
func (s *Server) roleClaim(t *issuedToken, projectID string) map[string]map[string]string {
	u := s.users[t.userID]
	var asked []string
	for _, sc := range t.scopes {
		if r, ok := strings.CutPrefix(sc, scopeRolePrefix); ok {
			asked = append(asked, r)
		}
	}
	org := s.orgs[u.org]
	var out map[string]map[string]string
	for _, r := range u.roles[projectID] {
		if len(asked) > 0 && !slices.Contains(asked, r) {
			continue
		}
		if out == nil {
			out = map[string]map[string]string{}
		}
		out[r] = map[string]string{org.id: s.primaryDomainLocked(org)}
	}
	return out
}

// addIntrospectedRoles adds to c the user's roles in projectID, the
// introspecting application's project, in both of ZITADEL's forms; s.mu
// must be held.
func (s *Server) addIntrospectedRoles(c claims, t *issuedToken, projectID string) {
	if r := s.roleClaim(t, projectID); r != nil {
		c[rolesClaimPrefix+projectID+":roles"] = r
		c[rolesClaim] = r
	}
}

// addAudienceRoles adds to c, when t was asked with a role scope, the user's
// roles in each project of t's audience, as userinfo, the ID token and a JWT
// access token carry them; s.mu must be held.
func (s *Server) addAudienceRoles(c claims, t *issuedToken) {
	if !slices.ContainsFunc(t.scopes, func(sc string) bool {
		return sc == scopeAllRoles || strings.HasPrefix(sc, scopeRolePrefix)
	}) {
		return
	}
	for _, p := range t.audience {
		if r := s.roleClaim(t, p); r != nil {
			c[rolesClaimPrefix+p+":roles"] = r
		}
	}
}
