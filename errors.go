package serviceuser

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/hint"
	"github.com/go-serviceuser/serviceuser/internal/redact"
	"github.com/go-serviceuser/serviceuser/internal/urlpolicy"
)

// ErrInsecureURL is matched (with errors.Is) by every refusal of a URL that
// would carry a credential over plain http to a host that is not loopback: a
// configured URL, a discovered endpoint, a request through a token source's
// Client or a bearer.Transport. Set a config's Route.InsecureAllowPlainHTTP
// (for ZITADEL's origins) or bearer.Transport.InsecureAllowPlainHTTPAnyHost
// (for any host) to allow it. Its text is "serviceuser: refusing to send a
// token over plain http".
var ErrInsecureURL = urlpolicy.ErrInsecureURL

// maxErrorText bounds the whole line of TokenError.Error and
// DiscoveryError.Error, which the longest code, description and hint fit
// (the answer that made an error bounds its Code and Description).
const maxErrorText = 1 << 10

// ErrClosed is returned by a TokenSource that has been closed and holds no valid token.
var ErrClosed = errors.New("serviceuser: token source closed")

// closedError is the error of a refresh that Close ended: it matches
// ErrClosed and the refresh's last error, and, unlike errors.Join, reads as
// one line.
type closedError struct{ last error }

// closedWith is ErrClosed with the refresh's last error, if any.
func closedWith(last error) error {
	if last == nil {
		return ErrClosed
	}
	return &closedError{last: last}
}

func (e *closedError) Error() string {
	return ErrClosed.Error() + " (last error: " + e.last.Error() + ")"
}

func (e *closedError) Unwrap() []error { return []error{ErrClosed, e.last} }

// Endpoint names, as in TokenError.Endpoint.
const (
	EndpointToken         = hint.EndpointToken         // "token"
	EndpointUserinfo      = hint.EndpointUserinfo      // "userinfo"
	EndpointIntrospection = hint.EndpointIntrospection // "introspection"
)

// ConfigError reports a config that cannot work.
type ConfigError struct {
	// Config is the config's type, such as "ClientCredentialsConfig"; empty
	// when Field is a function's argument.
	Config string
	// Field is the field (or argument) at fault.
	Field string
	// Problem says what is wrong.
	Problem string
	// Err is the cause, such as an error matching ErrInsecureURL, or nil;
	// Problem already says it.
	Err error
}

// Error names the config type, the field and the problem.
func (e *ConfigError) Error() string {
	name := e.Field
	if e.Config != "" {
		name = e.Config + "." + e.Field
	}
	return "serviceuser: " + name + ": " + e.Problem
}

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

// Permanent is true: a configuration error needs a change of configuration.
func (e *ConfigError) Permanent() bool { return true }

// DiscoveryError reports a discovery document that could not be fetched or used.
type DiscoveryError struct {
	// URL is the discovery document's address.
	URL string
	// StatusCode is the HTTP status, or 0 when there was no answer.
	StatusCode int
	// Problem says what is wrong.
	Problem string
	// Err is the underlying error, if any.
	Err error
	// OtherIssuer is the issuer the document names when it is not the one
	// asked for (one line, user info removed, at most 100 bytes): ZITADEL
	// answers for another instance, or the issuer is misspelt. It is ""
	// for every other failure.
	OtherIssuer string
}

// Error names the document's URL and what is wrong with it, on one line of
// at most 1 KiB (control characters escaped, as in TokenError.Error).
func (e *DiscoveryError) Error() string {
	msg := "serviceuser: discovery " + e.URL + ": " + e.Problem
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return redact.Line(msg, maxErrorText)
}

// Unwrap returns the underlying error.
func (e *DiscoveryError) Unwrap() error { return e.Err }

// Permanent reports whether the document describes another issuer
// (OtherIssuer is set), which only a configuration change can fix. Every
// other failure (no answer, a redirect, a 404 or an HTML page from a proxy
// or ingress that is not ready yet, an unusable document) may heal by
// itself and is retried with backoff.
func (e *DiscoveryError) Permanent() bool { return e.OtherIssuer != "" }

// TokenError is returned when no token could be obtained. When the token
// endpoint answered, Err is an *oauth2.RetrieveError (so errors.As code written
// for golang.org/x/oauth2 keeps working); otherwise it is the network error.
// Neither the assertion nor any token ever appears in it.
//
// What the server sent is kept as one line: in Code, Description and the
// RetrieveError's ErrorCode, ErrorDescription and ErrorURI, and in
// Response.Status, every control character (CR, LF, ESC, DEL, the C1
// controls, line separators, bidi and other format characters) is written
// as a Go escape such as \n or \x1b, so that a hostile server or proxy can
// neither forge log lines nor drive a terminal; and each is bounded (the code
// to 100 bytes, ErrorDescription and ErrorURI to 2 KiB). The RetrieveError's
// Body is the body as sent, credentials removed, at most 2 KiB: print it with
// %q. (x/oauth2's RetrieveError.Error shows that body on a line of its own
// when the answer has no error code; log the TokenError instead.)
type TokenError struct {
	// StatusCode is the HTTP status of the answer, or 0 when there was none.
	StatusCode int
	// Code is the OAuth error code, such as "invalid_grant" or "server_error":
	// one line of at most 100 bytes.
	Code string
	// Description is the server's error_description, or what is wrong with a
	// malformed response: one line of at most 300 bytes.
	Description string
	// RetryAfter is the server's Retry-After, or 0.
	RetryAfter time.Duration
	// Hint says what usually causes this error, when that is known.
	Hint string
	// Err is the underlying error.
	Err error
	// Endpoint names the endpoint that failed: "token", "userinfo" or
	// "introspection".
	Endpoint string
}

// Error gives the endpoint, the HTTP status, ZITADEL's error code and
// description, and the hint, on one line of at most 1 KiB with control
// characters escaped; never the assertion or a token.
func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("serviceuser: " + e.endpointName() + " request failed: ")
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
	return redact.Line(b.String(), maxErrorText)
}

func (e *TokenError) endpointName() string {
	if e.Endpoint == "" {
		return EndpointToken
	}
	return e.Endpoint
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
// ZITADEL's answers for a client secret made a moment ago
// ("Errors.User.Machine.Secret.NotExisting") and for a user made a moment
// ago ("Errors.User.NotFound") are not permanent: they heal once the
// secret or the user is projected.
func (e *TokenError) Permanent() bool {
	if notProjected(e) {
		return false
	}
	switch e.Code {
	case "invalid_grant", "invalid_scope", "unauthorized_client", "unsupported_grant_type",
		"invalid_request", "invalid_client":
		return true
	}
	return false
}

// notProjected reports a token endpoint's answer that says a credential
// made a moment ago is not visible yet: it usually heals in milliseconds.
func notProjected(te *TokenError) bool {
	return hint.NotProjected(te.endpointName(), te.Description)
}
