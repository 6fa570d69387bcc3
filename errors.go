package serviceuser

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrClosed is returned by a TokenSource that has been closed and holds no valid token.
var ErrClosed = errors.New("serviceuser: token source closed")

// TokenError is returned when no token could be obtained. When the token
// endpoint answered, Err is an *oauth2.RetrieveError (so errors.As code written
// for golang.org/x/oauth2 keeps working); otherwise it is the network error.
// Neither the assertion nor any token ever appears in it.
type TokenError struct {
	// StatusCode is the HTTP status of the answer, or 0 when there was none.
	StatusCode int
	// Code is the OAuth error code, such as "invalid_grant" or "server_error".
	Code string
	// Description is the server's error_description, or what is wrong with a
	// malformed response.
	Description string
	// RetryAfter is the server's Retry-After, or 0.
	RetryAfter time.Duration
	// Hint says what usually causes this error, when that is known.
	Hint string
	// Err is the underlying error.
	Err error

	endpoint string // which request failed, "token" when empty
}

func (e *TokenError) Error() string {
	var b strings.Builder
	endpoint := e.endpoint
	if endpoint == "" {
		endpoint = "token"
	}
	b.WriteString("serviceuser: " + endpoint + " request failed: ")
	if e.StatusCode == 0 {
		b.WriteString(errorText(e.Err))
	} else {
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
		for _, part := range []string{e.Code, e.Description} {
			if part != "" {
				b.WriteString(": " + part)
			}
		}
	}
	if e.Hint != "" {
		b.WriteString(" (" + e.Hint + ")")
	}
	return b.String()
}

func errorText(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

// Unwrap returns the *oauth2.RetrieveError or the network error.
func (e *TokenError) Unwrap() error { return e.Err }

// Permanent reports whether retrying the same request cannot help until the
// configuration, the key or the server's setup changes.
func (e *TokenError) Permanent() bool {
	switch e.Code {
	case "invalid_grant", "invalid_scope", "unauthorized_client", "unsupported_grant_type",
		"invalid_request", "invalid_client":
		return true
	}
	return false
}

// hintFor explains the errors whose cause is not obvious from their text.
func hintFor(status int, code, description string) string {
	switch {
	case status == http.StatusInternalServerError && (code == "server_error" || strings.Contains(description, "Errors.Internal")):
		return "ZITADEL answers most rejected assertions this way; usual causes: the client clock drifts from the server's, " +
			"the key id is unknown or the key was deleted or expired, the issuer/audience does not match the instance exactly " +
			"(no trailing slash, same host), or the user was deleted"
	case code == "unsupported_grant_type":
		return "the token endpoint does not accept the JWT bearer grant"
	case code == "invalid_scope" || (code == "invalid_request" && strings.Contains(strings.ToLower(description), "scope")):
		return "check Config.Scopes: at least one valid scope, such as \"openid\", is required"
	case code == "invalid_grant":
		return "the assertion was refused: check the key file, the issuer and the clock"
	case status == http.StatusNotFound:
		return "wrong token URL or issuer"
	}
	return ""
}
