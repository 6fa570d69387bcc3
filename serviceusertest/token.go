package serviceusertest

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// GrantTypeJWTBearer is the JWT profile grant type (RFC 7523 section 2.1).
// The token endpoint also serves GrantTypeClientCredentials.
const GrantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// scopeMissing is ZITADEL's description for a request without scope.
const scopeMissing = "The scope of your request is missing. Please ensure some scopes are requested. " +
	"If you have any questions, you may contact the administrator of the application."

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

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("serviceusertest: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
