package introspection

import (
	"slices"
)

// HasRole reports whether the token is active and its user holds role in
// the API's project (see Result.Roles), in any organization.
func (r *Result) HasRole(role string) bool {
	return r.HasRoleInOrg(role, "")
}

// HasRoleInOrg reports whether the token is active and its user holds role
// in the API's project within the organization orgID; an empty orgID means
// any organization.
func (r *Result) HasRoleInOrg(role, orgID string) bool {
	if r == nil || !r.Active {
		return false
	}
	orgs := r.roles[role]
	if orgID == "" {
		return len(orgs) > 0
	}
	_, ok := orgs[orgID]
	return ok
}

// Requirement is what a token must carry to be let through: always that it
// is active, and roles in the API's project as made by RequireAnyRole or
// RequireAllRoles. The zero Requirement asks for an active token only.
// Introspector.Require and the server interceptors of module grpcauth check
// it: an inactive token is refused as unauthenticated (HTTP 401), an active
// one lacking the roles as forbidden (HTTP 403).
type Requirement struct {
	roles []string
	all   bool   // all of roles rather than any
	named bool   // made with a list of roles, however short
	org   string // where the roles must be held; "" for anywhere
}

// RequireAnyRole is met by an active token whose user holds at least one of
// roles. With no roles it is met by no token: an empty list is more likely
// a mistake than a wish to let every token in.
func RequireAnyRole(roles ...string) Requirement {
	return Requirement{roles: slices.Clone(roles), named: true}
}

// RequireAllRoles is met by an active token whose user holds every one of
// roles. With no roles it is met by no token, as RequireAnyRole.
func RequireAllRoles(roles ...string) Requirement {
	return Requirement{roles: slices.Clone(roles), all: true, named: true}
}

// InOrg returns q with the roles required within the organization orgID
// (an ID, as in Result.Roles and Organization.ID), not in any; "" means any
// again. The zero Requirement names no role, so InOrg makes it one met by
// no token.
func (q Requirement) InOrg(orgID string) Requirement {
	q.org = orgID
	if orgID != "" {
		q.named = true
	}
	return q
}

// MetBy reports whether r is an active token that meets q.
func (q Requirement) MetBy(r *Result) bool {
	if r == nil || !r.Active {
		return false
	}
	if !q.named {
		return true
	}
	if len(q.roles) == 0 {
		return false
	}
	holds := func(role string) bool { return r.HasRoleInOrg(role, q.org) }
	if q.all {
		return !slices.ContainsFunc(q.roles, func(role string) bool { return !holds(role) })
	}
	return slices.ContainsFunc(q.roles, holds)
}
