// Package describe turns the library's hook events into the few bounded,
// secret-free values that metrics and spans may carry: an outcome, a refresh
// mode, an error's type and, for token errors, the endpoint, HTTP status and
// a known OAuth error code. An error's text is never used: it may hold what a
// server or a signer wrote.
package describe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/go-serviceuser/serviceuser"
)

// Outcome values.
const (
	OK      = "ok"
	Error   = "error"
	Refused = "refused"
)

// Outcome is OK for a nil error and Error otherwise.
func Outcome(err error) string {
	if err != nil {
		return Error
	}
	return OK
}

// ReloadOutcome is OK for a credential in use and Refused otherwise.
func ReloadOutcome(err error) string {
	if err != nil {
		return Refused
	}
	return OK
}

// Mode is "waited" when callers wait for a refresh and "ahead" for a refresh
// ahead of expiry.
func Mode(waited bool) string {
	if waited {
		return "waited"
	}
	return "ahead"
}

// Detail is what may be told about an error.
type Detail struct {
	// Type names the error's Go type or the sentinel it matches; "" for nil.
	Type string
	// Endpoint, StatusCode and Code come from a *serviceuser.TokenError.
	Endpoint   string
	StatusCode int
	// Code is a standard OAuth error code, OtherCode for any other one, or "".
	Code string
}

// OtherCode stands for an error code outside the standard ones: a server may
// put anything there.
const OtherCode = "other"

// Err describes err; the zero Detail for nil.
func Err(err error) Detail {
	if err == nil {
		return Detail{}
	}
	d := Detail{Type: ErrType(err)}
	var te *serviceuser.TokenError
	if errors.As(err, &te) {
		d.Endpoint = te.Endpoint
		if d.Endpoint == "" {
			d.Endpoint = serviceuser.EndpointToken
		}
		d.StatusCode = te.StatusCode
		d.Code = oauthCode(te.Code)
	}
	return d
}

// sentinels are named errors worth naming over their type.
var sentinels = []struct {
	err  error
	name string
}{
	{serviceuser.ErrClosed, "serviceuser.ErrClosed"},
	{serviceuser.ErrInsecureURL, "serviceuser.ErrInsecureURL"},
	{serviceuser.ErrKeyExpired, "serviceuser.ErrKeyExpired"},
	{serviceuser.ErrPATRejected, "serviceuser.ErrPATRejected"},
	{serviceuser.ErrPATExpired, "serviceuser.ErrPATExpired"},
	{serviceuser.ErrNotReady, "serviceuser.ErrNotReady"},
	{context.DeadlineExceeded, "context.DeadlineExceeded"},
	{context.Canceled, "context.Canceled"},
}

// ErrType names the library's error type found in err's chain, else a
// sentinel err matches, else err's own Go type. Type names are fixed at
// compile time, so they carry nothing a caller or server wrote.
func ErrType(err error) string {
	if err == nil {
		return ""
	}
	if t := libraryType(err); t != nil {
		return fmt.Sprintf("%T", t)
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return fmt.Sprintf("%T", err)
}

// libraryType is the first of the library's error types in err's chain.
func libraryType(err error) error {
	var (
		te *serviceuser.TokenError
		de *serviceuser.DiscoveryError
		ce *serviceuser.ConfigError
		cr *serviceuser.CredentialError
		ke *serviceuser.KeyFileError
		se *serviceuser.SignerError
	)
	switch {
	case errors.As(err, &te):
		return te
	case errors.As(err, &de):
		return de
	case errors.As(err, &ce):
		return ce
	case errors.As(err, &cr):
		return cr
	case errors.As(err, &ke):
		return ke
	case errors.As(err, &se):
		return se
	}
	return nil
}

// oauthCodes are the error codes of RFC 6749, RFC 6750 and RFC 8693.
var oauthCodes = map[string]bool{
	"invalid_request": true, "invalid_client": true, "invalid_grant": true,
	"unauthorized_client": true, "unsupported_grant_type": true, "invalid_scope": true,
	"access_denied": true, "unsupported_response_type": true, "server_error": true,
	"temporarily_unavailable": true, "invalid_token": true, "insufficient_scope": true,
	"invalid_target": true,
}

// oauthCode keeps a standard code and replaces any other by OtherCode, which
// bounds the values and keeps a server's free text out.
func oauthCode(code string) string {
	if code == "" || oauthCodes[code] {
		return code
	}
	return OtherCode
}

// Expiry holds the expiry of the last token obtained, for a remaining
// lifetime gauge. Its zero value holds none.
type Expiry struct{ unixNano atomic.Int64 }

// Set records the expiry of a new token.
func (e *Expiry) Set(t time.Time) {
	if !t.IsZero() {
		e.unixNano.Store(t.UnixNano())
	}
}

// Remaining is how long the last token has left at now, never below zero;
// ok is false while no token was obtained.
func (e *Expiry) Remaining(now time.Time) (seconds float64, ok bool) {
	n := e.unixNano.Load()
	if n == 0 {
		return 0, false
	}
	return math.Max(0, time.Unix(0, n).Sub(now).Seconds()), true
}

// DurationBuckets are histogram bounds in seconds for requests to ZITADEL
// and for cached introspection answers.
var DurationBuckets = []float64{
	0.0001, 0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
}
