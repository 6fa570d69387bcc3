package serviceusertest

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"
)

// issuedToken is what the server remembers about an access token or a
// personal access token.
type issuedToken struct {
	id       string // "jti"
	userID   string
	clientID string // the client that obtained it: the user's login name
	scopes   []string
	audience []string // project IDs
	issuedAt time.Time
	expiry   time.Time
	pat      bool     // a personal access token, read from projections
	jwt      bool     // a JWT access token, see SetJWTAccessTokens
	life     lifespan // revocation: deleted
}

// newToken returns the token to issue to userID for scopes, without its
// times; its audience holds the projects the scopes ask for.
func (s *Server) newToken(userID string, scopes []string) *issuedToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &issuedToken{
		id:       s.newIDLocked(),
		userID:   userID,
		clientID: s.users[userID].username,
		scopes:   scopes,
		audience: s.audienceFor(scopes),
		jwt:      s.users[userID].jwt,
	}
}

// audienceFor returns the project IDs of the audience scopes
// "urn:zitadel:iam:org:project:id:{projectId}:aud", "zitadel" standing for
// ZITADEL's own project.
func (s *Server) audienceFor(scopes []string) []string {
	var aud []string
	for _, sc := range scopes {
		id, prefixed := strings.CutPrefix(sc, "urn:zitadel:iam:org:project:id:")
		id, suffixed := strings.CutSuffix(id, ":aud")
		if !prefixed || !suffixed || id == "" {
			continue
		}
		if id == "zitadel" {
			id = s.zitadelProject
		}
		aud = append(aud, id)
	}
	return aud
}

// issue mints an access token for t, opaque or a JWT as the user's setting
// says, and an ID token when "openid" was asked, and answers with them.
func (s *Server) issue(w http.ResponseWriter, t *issuedToken) {
	now := s.clock()
	s.mu.Lock()
	lifetime := s.tokenLifetime
	validity := lifetime
	if validity == 0 {
		validity = DefaultTokenLifetime
	}
	t.issuedAt, t.expiry = now, now.Add(validity)
	s.mu.Unlock()
	token := randomToken()
	if t.jwt {
		token = s.accessTokenJWT(t)
	}
	s.mu.Lock()
	s.tokens[token] = t
	s.issuedTokens++
	s.mu.Unlock()
	resp := tokenResponse{AccessToken: token, TokenType: "Bearer"}
	if lifetime != 0 {
		secs := int64(lifetime / time.Second)
		resp.ExpiresIn = &secs
	}
	if slices.Contains(t.scopes, "openid") {
		resp.IDToken = s.idToken(t, token)
	}
	writeJSON(w, http.StatusOK, resp)
}

// SetJWTAccessTokens switches the access tokens the token endpoint issues to
// the user, for the JWT profile and the client credentials grant alike,
// between opaque ones (off, the default) and JWTs (on), as ZITADEL's
// accessTokenType of a machine user does (ACCESS_TOKEN_TYPE_JWT). Tokens
// already issued keep their kind; personal access tokens are always opaque.
//
// A JWT access token is signed RS256 with the instance's active signing key
// (see RotateSigningKey), with the header {"alg":"RS256","kid":…,"typ":"JWT"}
// and the claims iss, sub, aud, exp, iat, nbf, client_id (the user's login
// name) and jti, but no scope: "aud" is the audience the scopes ask for (each
// project with its applications' client IDs), or the user's login name alone
// without an audience scope, and exp-iat is the token lifetime. It carries
// roles only when asked with a role scope, as userinfo does (see GrantRole).
// Introspection and userinfo answer for it as for an opaque token. Once
// revoked (RevokeToken) it is inactive at introspection and refused by
// userinfo, yet its signature still verifies against the key set until it
// expires: only introspection sees a revocation.
//
// It panics if the user is unknown.
func (s *Server) SetJWTAccessTokens(userID string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustUser("SetJWTAccessTokens", userID).jwt = on
}

// accessTokenJWT signs the JWT access token t.
func (s *Server) accessTokenJWT(t *issuedToken) string {
	iss := s.Issuer()
	s.mu.Lock()
	aud := s.expandAudience(t.audience)
	if len(aud) == 0 {
		aud = []string{t.clientID}
	}
	c := claims{
		"iss":       iss,
		"sub":       t.userID,
		"aud":       aud,
		"exp":       t.expiry.Unix(),
		"iat":       t.issuedAt.Unix(),
		"nbf":       t.issuedAt.Unix(),
		"client_id": t.clientID,
		"jti":       t.id,
	}
	s.addAudienceRoles(c, t)
	s.mu.Unlock()
	return s.sign(c)
}

// randomToken returns 104 random characters, as long as the opaque access
// tokens of ZITADEL v4.13.1.
func randomToken() string {
	b := make([]byte, 78)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// RevokeToken revokes an access token or deletes a personal access token:
// userinfo and the Management API then answer 401 for it and introspection
// reports it inactive (for a personal access token, after the projection
// delay, see SetProjectionDelay).
func (s *Server) RevokeToken(accessToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[accessToken]; ok {
		t.life.markDeleted(time.Now())
	}
}

// validToken returns the token's record if it is known, projected, not
// revoked and unexpired by the server clock.
func (s *Server) validToken(accessToken string) (*issuedToken, bool) {
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[accessToken]
	if !ok || !now.Before(t.expiry) {
		return nil, false
	}
	delay := time.Duration(0)
	if t.pat {
		delay = s.delay()
	}
	if t.life.seen(time.Now(), delay) != visible {
		return nil, false
	}
	return t, true
}
