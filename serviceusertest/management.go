package serviceusertest

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// OrgIDHeader is the header with which Management API calls act on another
// organization than the caller's own.
const OrgIDHeader = "X-Zitadel-Orgid"

// ScopeZitadelAPI puts ZITADEL's own APIs into a token's audience: the
// Management API refuses tokens without it.
const ScopeZitadelAPI = "urn:zitadel:iam:org:project:id:zitadel:aud"

// organization is an organization of the instance.
type organization struct {
	id, name string
	created  time.Time
}

// NewOrganization adds an organization to the instance and returns its ID.
// Every server has one from the start, "ZITADEL", which all users belong to
// (ServiceUser.OrgID). Management API calls act on another organization
// with the OrgIDHeader; the fake lets every user do so, as an IAM owner may.
func (s *Server) NewOrganization(name string) string {
	id, now := s.newID(), s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orgs[id] = &organization{id: id, name: name, created: now}
	return id
}

// primaryDomainLocked is the organization's primary domain, its name as a
// DNS label under the instance's host name, as ZITADEL names a new
// organization's domain; s.mu must be held.
func (s *Server) primaryDomainLocked(o *organization) string {
	return strings.ToLower(strings.ReplaceAll(o.name, " ", "-")) + "." + hostname(s.instanceHostLocked())
}

// Membership is what a user's manager role lets it do at the Management API.
type Membership int

const (
	// MembershipOwner is a manager role with every permission the Management
	// API needs, as ORG_OWNER or IAM_OWNER has. Every user starts with it.
	MembershipOwner Membership = iota
	// MembershipNone is no manager role at all, as a new machine user has:
	// the Management API answers 404 {"code":5,"message":"membership not
	// found (AUTHZ-cdgFk)"}.
	MembershipNone
	// MembershipWithoutPermission is a manager role without the call's
	// permission, such as ORG_PROJECT_CREATOR for GET orgs/me: the
	// Management API answers 403 {"code":7,"message":"No matching
	// permissions found (AUTH-5mWD2)"}.
	MembershipWithoutPermission
)

// Management API answers to a user whose membership does not allow the call.
const (
	membershipNotFound = "membership not found (AUTHZ-cdgFk)"
	noPermission       = "No matching permissions found (AUTH-5mWD2)"
)

// SetMembership sets what the user's manager role lets it do at the
// Management API; tokens already issued follow the change. It panics if the
// user is unknown.
func (s *Server) SetMembership(userID string, m Membership) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustUser("SetMembership", userID).membership = m
}

// membership returns the user's membership.
func (s *Server) membership(userID string) Membership {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[userID]; ok {
		return u.membership
	}
	return MembershipNone
}

// grpcError is the JSON body of an error from ZITADEL's REST gateway: code
// is the gRPC status code, not the HTTP one.
type grpcError struct {
	Code    int           `json:"code"`
	Message string        `json:"message"`
	Details []errorDetail `json:"details,omitempty"`
}

type errorDetail struct {
	Type    string `json:"@type"`
	ID      string `json:"id"`
	Message string `json:"message"`
}

// tokenInvalid is the Management API's challenge and message for a token it
// does not accept.
const tokenInvalid = "Errors.Token.Invalid (AUTH-7fs1e)"

// gRPC status codes in the gateway's error bodies.
const (
	grpcNotFound         = 5
	grpcPermissionDenied = 7
	grpcUnauthenticated  = 16
)

// serveManagement serves GET /management/v1/orgs/me for tokens whose
// audience holds ZITADEL's project and users whose membership allows it;
// any other path is not found.
func (s *Server) serveManagement(w http.ResponseWriter, r *http.Request) {
	token := bearerToken(r)
	if token == "" {
		writeJSON(w, http.StatusUnauthorized, grpcError{Code: grpcUnauthenticated, Message: "auth header missing"})
		return
	}
	t, ok := s.validToken(token)
	if !ok || !slices.Contains(t.audience, s.zitadelProject) {
		w.Header().Set("Www-Authenticate", tokenInvalid)
		writeJSON(w, http.StatusUnauthorized, grpcError{Code: grpcUnauthenticated, Message: tokenInvalid, Details: []errorDetail{
			{Type: "type.googleapis.com/zitadel.v1.ErrorDetail", ID: "AUTH-7fs1e", Message: "Errors.Token.Invalid"},
		}})
		return
	}
	if r.Method != http.MethodGet || strings.TrimPrefix(r.URL.Path, managementPath) != "/orgs/me" {
		writeJSON(w, http.StatusNotFound, grpcError{Code: grpcNotFound, Message: "Not Found"})
		return
	}
	switch s.membership(t.userID) {
	case MembershipNone:
		writeJSON(w, http.StatusNotFound, grpcError{Code: grpcNotFound, Message: membershipNotFound})
		return
	case MembershipWithoutPermission:
		writeJSON(w, http.StatusForbidden, grpcError{Code: grpcPermissionDenied, Message: noPermission})
		return
	}
	s.serveMyOrg(w, r, t)
}

// orgResponse is the answer of GET /management/v1/orgs/me.
type orgResponse struct {
	Org orgJSON `json:"org"`
}

type orgJSON struct {
	ID            string     `json:"id"`
	Details       orgDetails `json:"details"`
	State         string     `json:"state"`
	Name          string     `json:"name"`
	PrimaryDomain string     `json:"primaryDomain"`
}

type orgDetails struct {
	Sequence      string `json:"sequence"`
	CreationDate  string `json:"creationDate"`
	ChangeDate    string `json:"changeDate"`
	ResourceOwner string `json:"resourceOwner"`
}

// serveMyOrg answers with the org of the OrgIDHeader, or else the caller's.
func (s *Server) serveMyOrg(w http.ResponseWriter, r *http.Request, t *issuedToken) {
	s.mu.Lock()
	id := r.Header.Get(OrgIDHeader)
	if id == "" {
		id = s.users[t.userID].org
	}
	org, ok := s.orgs[id]
	domain := ""
	if ok {
		domain = s.primaryDomainLocked(org)
	}
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, grpcError{Code: grpcNotFound, Message: "Errors.Org.NotFound"})
		return
	}
	created := org.created.UTC().Format(time.RFC3339Nano)
	writeJSON(w, http.StatusOK, orgResponse{Org: orgJSON{
		ID:            org.id,
		Details:       orgDetails{Sequence: "1", CreationDate: created, ChangeDate: created, ResourceOwner: org.id},
		State:         "ORG_STATE_ACTIVE",
		Name:          org.name,
		PrimaryDomain: domain,
	}})
}
