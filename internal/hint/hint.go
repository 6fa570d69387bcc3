// Package hint says what usually causes an error answer of ZITADEL whose
// text does not. Hints are chosen per endpoint and grant, known here by
// their plain names: an assertion hint for a client secret or a userinfo
// call would send the reader the wrong way.
package hint

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/assertion"
)

// Endpoint names, as in serviceuser.TokenError.Endpoint.
const (
	EndpointToken         = "token"
	EndpointUserinfo      = "userinfo"
	EndpointIntrospection = "introspection"
)

// ZITADEL's answers for a credential its projections do not show yet: a
// client secret made a moment ago, and, now and then, a user made a moment
// ago (its user projection trailing its key's), which the token endpoint
// answers with 404 invalid_request.
const (
	SecretNotProjected = "Errors.User.Machine.Secret.NotExisting"
	UserNotProjected   = "Errors.User.NotFound"
)

// NotProjected reports an answer of endpoint whose description says that a
// credential made a moment ago is not visible yet: it usually heals in
// milliseconds.
func NotProjected(endpoint, description string) bool {
	return endpoint == EndpointToken &&
		(strings.Contains(description, SecretNotProjected) || strings.Contains(description, UserNotProjected))
}

const (
	wrongHost = "ZITADEL picks the instance by host name: the issuer's host must be the instance's domain exactly; " +
		"to reach it by another address, keep Issuer the instance's domain and set Address"
	refusedAssertion = "ZITADEL answers most rejected assertions this way; usual causes: the client clock drifts from the server's, " +
		"the key id is unknown or the key was deleted or expired, the issuer/audience does not match the instance exactly " +
		"(no trailing slash, same host), or the user was deleted; a key made moments ago is not active yet"
	serverFailed   = "ZITADEL failed to answer; the request is retried with backoff"
	notActive      = "the machine user is deactivated: reactivate it in the console"
	secretInvalid  = "the client secret is wrong for this machine user (ClientID is the login name)"
	secretMissing  = "the machine user has no client secret; a secret made moments ago is not active yet"
	grantType      = "the token endpoint does not accept this grant type"
	scope          = "check Scopes: at least one valid scope, such as \"openid\", is required"
	invalidGrant   = "the assertion was refused: check the key file, the issuer and the clock"
	tokenRejected  = "the access token is invalid, expired or revoked"
	wrongURL       = "wrong URL or issuer"
	introspectAuth = "the API application's key was refused"
)

// userNotFound explains the token endpoint's 404 "Errors.User.NotFound":
// usually a user made a moment ago that ZITADEL's projections do not show
// yet, which heals in moments.
const userNotFound = "ZITADEL does not find the user: a user or key made a moment ago is not visible at first, and the request is retried; " +
	"if this persists, the user does not exist on this instance (check the issuer, and the key file's userId or ClientID)"

// Answer is what an error answer says, for a hint.
type Answer struct {
	// Endpoint is EndpointToken, EndpointUserinfo, EndpointIntrospection,
	// or "" for a discovery document.
	Endpoint string
	// Grant is the token request's grant type; "" for other endpoints.
	Grant       string
	StatusCode  int
	Code        string
	Description string
	// Date is the answer's Date header (the server's clock) and Sent when
	// the request was sent, for a hint about clock drift; both may be zero.
	Date string
	Sent time.Time
}

// For explains a, or returns "". For a refused assertion it leads with the
// clock offset the answer's Date header shows, when that is what refused it.
func For(a Answer) string {
	h := choose(a)
	if h != refusedAssertion && h != invalidGrant {
		return h
	}
	if drift := clockDrift(a.Date, a.Sent); drift != "" {
		return drift + "; " + h
	}
	return h
}

// choose picks the hint of a, without the clock.
func choose(a Answer) string {
	switch {
	case strings.Contains(a.Description, "Instance not found"):
		return wrongHost
	case strings.Contains(a.Description, "Errors.User.NotActive"):
		return notActive
	case strings.Contains(a.Description, "Errors.User.Machine.Secret.Invalid"):
		return secretInvalid
	case strings.Contains(a.Description, SecretNotProjected):
		return secretMissing
	case a.Endpoint == EndpointToken && strings.Contains(a.Description, UserNotProjected):
		return userNotFound
	case a.StatusCode == http.StatusNotFound:
		return wrongURL
	}
	switch a.Endpoint {
	case EndpointToken:
		return tokenHint(a)
	case EndpointUserinfo:
		if a.StatusCode == http.StatusUnauthorized {
			return tokenRejected
		}
	case EndpointIntrospection:
		if a.StatusCode == http.StatusUnauthorized || a.Code == "invalid_client" {
			return introspectAuth
		}
	}
	return ""
}

// tokenHint explains an error answer of the token endpoint.
func tokenHint(a Answer) string {
	internal := a.StatusCode == http.StatusInternalServerError && (a.Code == "server_error" || strings.Contains(a.Description, "Errors.Internal"))
	bearer := a.Grant == assertion.GrantType
	switch {
	case internal && bearer:
		return refusedAssertion
	case internal:
		return serverFailed
	case a.Code == "unsupported_grant_type":
		return grantType
	case a.Code == "invalid_scope" || (a.Code == "invalid_request" && strings.Contains(strings.ToLower(a.Description), "scope")):
		return scope
	case a.Code == "invalid_grant" && bearer:
		return invalidGrant
	}
	return ""
}

// driftWorthNaming is the clock offset a hint names: half the assertion's
// backdating of iat, which a drift beyond it starts to defeat.
const driftWorthNaming = assertion.Backdate / 2

// clockDrift compares the answer's Date header (the server's clock, to the
// second) with sent, when the request was sent, and names an offset that
// can refuse an assertion; "" when there is none or no Date.
func clockDrift(dateHeader string, sent time.Time) string {
	date, err := http.ParseTime(dateHeader)
	if err != nil || sent.IsZero() {
		return ""
	}
	offset := date.Sub(sent.Truncate(time.Second))
	switch {
	case offset > driftWorthNaming:
		return fmt.Sprintf("ZITADEL's clock is %v ahead of this machine's (its Date header)", offset.Round(time.Second))
	case offset < -driftWorthNaming:
		return fmt.Sprintf("this machine's clock is %v ahead of ZITADEL's (its Date header); assertions are backdated by %v only",
			(-offset).Round(time.Second), assertion.Backdate)
	}
	return ""
}
