package serviceuser

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrClosed is returned by a TokenSource that has been closed and holds no valid token.
var ErrClosed = errors.New("serviceuser: token source closed")

// Endpoint names, as in TokenError.Endpoint.
const (
	EndpointToken         = "token"
	EndpointUserinfo      = "userinfo"
	EndpointIntrospection = "introspection"
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
}

func (e *ConfigError) Error() string {
	name := e.Field
	if e.Config != "" {
		name = e.Config + "." + e.Field
	}
	return "serviceuser: " + name + ": " + e.Problem
}

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

	otherIssuer bool // the document describes another issuer
}

func (e *DiscoveryError) Error() string {
	msg := "serviceuser: discovery " + e.URL + ": " + e.Problem
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *DiscoveryError) Unwrap() error { return e.Err }

// Permanent reports whether the document describes another issuer, which only
// a configuration change can fix. Every other failure (no answer, a redirect,
// a 404 or an HTML page from a proxy or ingress that is not ready yet, an
// unusable document) may heal by itself and is retried with backoff.
func (e *DiscoveryError) Permanent() bool { return e.otherIssuer }

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
	// Endpoint names the endpoint that failed: "token", "userinfo" or
	// "introspection".
	Endpoint string
}

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
	return b.String()
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
func (e *TokenError) Permanent() bool {
	switch e.Code {
	case "invalid_grant", "invalid_scope", "unauthorized_client", "unsupported_grant_type",
		"invalid_request", "invalid_client":
		return true
	}
	return false
}
