package introspection

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"
)

// Result is what is known of one token: the answer of the introspection
// endpoint (RFC 7662), or the claims of a JWT access token verified against
// ZITADEL's key set (Local). When Active is false every other field is
// empty, whatever the server said.
//
// Each caller gets a Result of its own, whose fields are its to change.
// What a Result holds by reference (audience, actor, roles, claims) is
// shared with every caller of the same token, and so is read through
// methods that hand out copies: no caller can change what another sees.
// A test of a handler makes a Result with json.Unmarshal of an answer as
// ZITADEL sends it (see UnmarshalJSON) and hands it on with NewContext.
type Result struct {
	// Active is whether the token is valid for this API.
	Active bool
	// Subject ("sub") is the user's ID.
	Subject string
	// ClientID ("client_id") is the client the token was issued to; for a
	// service user, its user name.
	ClientID string
	// Username ("username") is the user's name; ZITADEL sends it only for a
	// token asked with the "profile" scope.
	Username string
	// Scope ("scope") is the token's scopes, separated by spaces.
	Scope string
	// TokenType ("token_type") is "Bearer".
	TokenType string
	// Issuer ("iss") is the ZITADEL instance.
	Issuer string
	// JWTID ("jti") is the token's ID.
	JWTID string
	// ExpiresAt ("exp"), IssuedAt ("iat"), NotBefore ("nbf") and AuthTime
	// ("auth_time") are zero when absent.
	ExpiresAt, IssuedAt, NotBefore, AuthTime time.Time
	// ResourceOwner is the user's organization; ZITADEL sends it only for a
	// token asked with the scope "urn:zitadel:iam:user:resourceowner"
	// (scope.UserResourceOwner). Zero otherwise.
	ResourceOwner Organization
	// Local is true for a JWT access token verified against ZITADEL's key
	// set without asking ZITADEL (see Mode): it was not revoked when issued,
	// and may have been since. Introspector.AlwaysIntrospect asks instead.
	Local bool

	// Shared by every caller of the token, never changed once read: see
	// Audience, Actor, Roles and Claims.
	audience []string
	actor    json.RawMessage
	roles    map[string]map[string]string
	claims   *claimSet
}

// Organization is a ZITADEL organization.
type Organization struct {
	// ID is the organization's ID.
	ID string
	// Name is its name.
	Name string
	// PrimaryDomain is its primary domain.
	PrimaryDomain string
}

// Claims of ZITADEL's that the Result reads besides RFC 7662's.
const (
	// claimRoles holds the roles in the introspecting application's project.
	claimRoles = "urn:zitadel:iam:org:project:roles"
	// claimOwner + ":id", ":name", ":primary_domain" name the user's organization.
	claimOwner = "urn:zitadel:iam:user:resourceowner"
)

// claimProjectPrefix + projectID + ":roles" names the claim with the roles
// in the project projectID (see rolesClaimName).
const claimProjectPrefix = "urn:zitadel:iam:org:project:"

// UnmarshalJSON reads an introspection answer. Roles come from the claim
// "urn:zitadel:iam:org:project:roles" (an Introspector with a
// Config.ProjectID reads that project's claim instead). A member of a type
// ZITADEL never sends is an error, except a malformed "aud", which is read
// as no audience; an answer that is not active is read as nothing else.
func (r *Result) UnmarshalJSON(data []byte) error {
	d, err := decode(data, "")
	if err != nil {
		return err
	}
	*r = *d
	return nil
}

// decode reads an introspection answer, the roles from projectID's claim
// (the generic one when projectID is empty).
func decode(data []byte, projectID string) (*Result, error) {
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(data, &claims); err != nil {
		return nil, err
	}
	if claims == nil {
		return nil, errors.New("introspection: the answer is null")
	}
	var active bool
	if err := field(claims, "active", &active); err != nil || !active {
		// RFC 7662 has nothing said of an inactive token; what a server says
		// anyway is not read, let alone handed on.
		return &Result{}, err
	}
	return fromClaims(claims, projectID)
}

// clone is r for one caller: the cache and a shared request hold the
// original. A copy of the struct is enough, as what it shares is read only
// through methods that copy.
func (r *Result) clone() *Result {
	if r == nil {
		return nil
	}
	c := *r
	return &c
}

// Audience ("aud") is the projects and clients the token is for; ZITADEL
// sends a string or an array, both read into a list. The list is the
// caller's own copy.
func (r *Result) Audience() []string { return slices.Clone(r.audience) }

// Actor ("act", RFC 8693) is the party acting for the subject, as sent, in
// a copy of the caller's own; nil when absent.
func (r *Result) Actor() json.RawMessage { return slices.Clone(r.actor) }

// Roles are the user's roles in the API's project: role key -> the IDs of
// the organizations in which the user holds it -> their primary domains,
// in maps of the caller's own (nil when none). They come from the claim
// "urn:zitadel:iam:org:project:{Config.ProjectID}:roles", or without a
// ProjectID from "urn:zitadel:iam:org:project:roles", which ZITADEL fills
// with the roles in the project of the API application that asked. A token
// asked with role scopes ("urn:zitadel:iam:org:project:role:{key}")
// carries those roles only. HasRole, HasRoleInOrg and Requirement read
// them without a copy.
func (r *Result) Roles() map[string]map[string]string {
	if r.roles == nil {
		return nil
	}
	c := make(map[string]map[string]string, len(r.roles))
	for role, orgs := range r.roles {
		c[role] = maps.Clone(orgs)
	}
	return c
}

// Claim returns the member name of the answer as sent, in a copy of the
// caller's own; ok is false when the answer has no such member. Decode it
// with json.Unmarshal.
func (r *Result) Claim(name string) (raw json.RawMessage, ok bool) {
	raw, ok = r.claims.members()[name]
	return slices.Clone(raw), ok
}

// Claims returns every member of the answer, those of the fields and
// methods above included, as sent, in a map of the caller's own; nil for
// an inactive token. Claim reads one member for less.
func (r *Result) Claims() map[string]json.RawMessage {
	members := r.claims.members()
	if members == nil {
		return nil
	}
	// One buffer for every claim's bytes, not one allocation each.
	n := 0
	for _, v := range members {
		n += len(v)
	}
	buf := make([]byte, 0, n)
	c := make(map[string]json.RawMessage, len(members))
	for name, v := range members {
		if v == nil {
			c[name] = nil
			continue
		}
		start := len(buf)
		buf = append(buf, v...)
		c[name] = buf[start:len(buf):len(buf)] // full slice: an append reallocates
	}
	return c
}

// resultKey is the context key of the Result of a request's token.
type resultKey struct{}

// NewContext returns a copy of ctx holding r, as Middleware and the server
// interceptors of package grpcauth hand it to handlers; tests of handlers
// can use it too.
func NewContext(ctx context.Context, r *Result) context.Context {
	return context.WithValue(ctx, resultKey{}, r)
}

// FromContext returns what Middleware, or a server interceptor of package
// grpcauth, learnt of the request's token; ok is false when ctx holds no
// Result.
func FromContext(ctx context.Context) (*Result, bool) {
	r, ok := ctx.Value(resultKey{}).(*Result)
	return r, ok && r != nil
}
