package serviceusertest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
)

// GrantTypeJWTBearer is the JWT profile grant type (RFC 7523 section 2.1).
// The token endpoint also serves GrantTypeClientCredentials.
const GrantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// scopeMissing is ZITADEL's description for a request without scope.
const scopeMissing = "The scope of your request is missing. Please ensure some scopes are requested. " +
	"If you have any questions, you may contact the administrator of the application."

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

// tokenResponse is a successful token endpoint answer: ZITADEL sends no
// "scope" member.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   *int64 `json:"expires_in,omitempty"`
	IDToken     string `json:"id_token,omitempty"`
}

// oauthError is an OAuth 2.0 error body.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// requestError is a rejection answered with its own status (0: 400) and
// error code; err, if set, is the reason Rejections reports.
type requestError struct {
	status            int
	code, description string
	err               error
}

func (e *requestError) Error() string { return e.code + ": " + e.description }

func (e *requestError) Unwrap() error { return e.err }

// badRequest returns a requestError without a further reason.
func badRequest(code, description string) *requestError {
	return &requestError{code: code, description: description}
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if f, ok := s.countTokenRequest(); ok {
		s.serveFault(w, r, f)
		return
	}
	s.waitLatency(r)
	t, err := s.checkTokenRequest(r)
	if err != nil {
		s.reject(err)
		s.writeRejection(w, err)
		return
	}
	s.issue(w, t)
}

// countTokenRequest counts the request and takes the pending fault, if any.
func (s *Server) countTokenRequest() (Fault, bool) {
	return s.count(&s.tokenRequests, &s.faults)
}

// count adds one to *counter and takes the first fault of *queue, if any, in
// one step so concurrent requests each consume their own.
func (s *Server) count(counter *int, queue *[]Fault) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*counter++
	if len(*queue) == 0 {
		return Fault{}, false
	}
	f := (*queue)[0]
	*queue = (*queue)[1:]
	return f, true
}

// checkTokenRequest validates the form, then the assertion or the client's
// credentials, and returns the token to issue, without its times.
func (s *Server) checkTokenRequest(r *http.Request) (*issuedToken, error) {
	form, err := parseTokenForm(r)
	if err != nil {
		return nil, err
	}
	if form.grantType == GrantTypeClientCredentials {
		return s.checkClientCredentials(r, form.scopes)
	}
	userID, err := s.checkAssertion(r.Context(), form.assertion)
	if err != nil {
		return nil, err
	}
	if err := s.checkProjected(userID); err != nil {
		return nil, err
	}
	if err := s.checkActive(userID); err != nil {
		return nil, err
	}
	return s.newToken(userID, form.scopes), nil
}

type tokenForm struct {
	grantType string
	assertion string
	scopes    []string
}

// parseTokenForm reads the request body only: parameters in the URL query are
// ignored, so a client that leaks the assertion into the URL fails here.
func parseTokenForm(r *http.Request) (*tokenForm, error) {
	if err := parsePostForm(r); err != nil {
		return nil, err
	}
	gt := r.PostForm.Get("grant_type")
	switch gt {
	case GrantTypeJWTBearer, GrantTypeClientCredentials:
	case "":
		return nil, badRequest("invalid_request", "grant_type missing")
	default:
		return nil, badRequest("unsupported_grant_type", gt+" not supported")
	}
	f := &tokenForm{grantType: gt, assertion: r.PostForm.Get("assertion"), scopes: strings.Fields(r.PostForm.Get("scope"))}
	if f.assertion == "" && gt == GrantTypeJWTBearer {
		return nil, badRequest("invalid_request", "assertion missing")
	}
	if len(f.scopes) == 0 {
		return nil, badRequest("invalid_request", scopeMissing)
	}
	return f, nil
}

// parsePostForm accepts only a POSTed form body.
func parsePostForm(r *http.Request) error {
	if r.Method != http.MethodPost {
		return badRequest("invalid_request", "method "+r.Method+" not allowed, use POST")
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		return badRequest("invalid_request", "error parsing form: content type must be application/x-www-form-urlencoded")
	}
	if err := r.ParseForm(); err != nil {
		return badRequest("invalid_request", "error parsing form: "+err.Error())
	}
	return nil
}

// writeRejection answers a rejected request: request errors with their own
// code, client authentication failures with 401, assertion failures per
// SetLegacyErrors.
func (s *Server) writeRejection(w http.ResponseWriter, err error) {
	if ce, ok := err.(*clientError); ok {
		writeClientError(w, ce)
		return
	}
	if re, ok := err.(*requestError); ok {
		status := re.status
		if status == 0 {
			status = http.StatusBadRequest
		}
		writeJSON(w, status, oauthError{re.code, re.description})
		return
	}
	s.mu.Lock()
	legacy := s.legacyErrors
	s.mu.Unlock()
	if legacy {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", err.Error()})
		return
	}
	writeJSON(w, http.StatusInternalServerError, internalError)
}

// internalError is what current ZITADEL answers for most failures.
var internalError = oauthError{"server_error", "Errors.Internal"}

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
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[accessToken]; ok {
		t.life.markDeleted(now)
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
	if t.life.seen(now, delay) != visible {
		return nil, false
	}
	return t, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("serviceusertest: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
