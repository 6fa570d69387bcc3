package serviceusertest

import (
	"net/http"
	"slices"
	"strings"
)

// scopeResourceOwner asks for the user's organization in the claims.
const scopeResourceOwner = "urn:zitadel:iam:user:resourceowner"

// userClaims returns the claims ZITADEL's userinfo and ID token carry for the
// user of t: "sub" always, name and preferred_username with "profile",
// email with "email", the user's organization with scopeResourceOwner, the
// roles in its audience with a role scope (see GrantRole); s.mu must be held.
func (s *Server) userClaims(t *issuedToken) claims {
	u := s.users[t.userID]
	c := claims{"sub": u.id}
	if slices.Contains(t.scopes, "profile") {
		c["name"], c["preferred_username"] = u.name, u.username
	}
	if slices.Contains(t.scopes, "email") {
		c["email"] = u.email
	}
	s.addResourceOwner(c, t)
	s.addAudienceRoles(c, t)
	return c
}

// addResourceOwner adds the organization of t's user to c when t was asked
// with scopeResourceOwner, as introspection, userinfo and the ID token do;
// s.mu must be held.
func (s *Server) addResourceOwner(c claims, t *issuedToken) {
	if !slices.Contains(t.scopes, scopeResourceOwner) {
		return
	}
	org := s.orgs[s.users[t.userID].org]
	c[scopeResourceOwner+":id"] = org.id
	c[scopeResourceOwner+":name"] = org.name
	c[scopeResourceOwner+":primary_domain"] = s.primaryDomainLocked(org)
}

// serveUserinfo answers for a bearer token issued by this server, so tests
// can prove a token really works. Like ZITADEL it sends no WWW-Authenticate
// challenge with its 401 answers.
func (s *Server) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	token := bearerToken(r)
	if token == "" {
		writeJSON(w, http.StatusUnauthorized, oauthError{"invalid_request", "access token missing"})
		return
	}
	t, ok := s.validToken(token)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, oauthError{"access_denied", "access token invalid"})
		return
	}
	s.mu.Lock()
	c := s.userClaims(t)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, c)
}

// bearerToken returns the token of an "Authorization: Bearer" header, or "".
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// discovery is the subset of ZITADEL's OpenID Provider metadata that clients
// of machine users read.
type discovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	JwksURI                           string   `json:"jwks_uri"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
}

// serveDiscovery serves /.well-known/openid-configuration. Only the token,
// userinfo and introspection endpoints are implemented; the others answer
// 404, but are listed as a real server lists them.
func (s *Server) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	iss := s.Issuer()
	writeJSON(w, http.StatusOK, discovery{
		Issuer:                iss,
		AuthorizationEndpoint: iss + "/oauth/v2/authorize",
		TokenEndpoint:         iss + tokenPath,
		IntrospectionEndpoint: iss + introspectPath,
		UserinfoEndpoint:      iss + userinfoPath,
		RevocationEndpoint:    iss + revokePath,
		JwksURI:               iss + keysPath,
		ScopesSupported: []string{
			"openid", "profile", "email", "phone", "address", "offline_access",
			"urn:zitadel:iam:org:project:id:zitadel:aud", "urn:zitadel:iam:user:resourceowner",
		},
		ResponseTypesSupported: []string{"code", "id_token", "id_token token"},
		GrantTypesSupported: []string{
			"authorization_code", "implicit", "refresh_token", "client_credentials",
			GrantTypeJWTBearer, "urn:ietf:params:oauth:grant-type:device_code",
		},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		TokenEndpointAuthMethodsSupported: []string{"none", "client_secret_basic", "client_secret_post", "private_key_jwt"},
	})
}
