package serviceuser

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Hints say what usually causes an answer whose text does not. They are
// chosen per endpoint and grant: an assertion hint for a client secret or a
// userinfo call would send the reader the wrong way.
const (
	hintWrongHost = "ZITADEL picks the instance by host name: the issuer's host must be the instance's domain exactly; " +
		"to reach it by another address, keep Issuer the instance's domain and set Address"
	hintAssertion = "ZITADEL answers most rejected assertions this way; usual causes: the client clock drifts from the server's, " +
		"the key id is unknown or the key was deleted or expired, the issuer/audience does not match the instance exactly " +
		"(no trailing slash, same host), or the user was deleted; a key made moments ago is not active yet"
	hintServer         = "ZITADEL failed to answer; the request is retried with backoff"
	hintNotActive      = "the machine user is deactivated: reactivate it in the console"
	hintSecretInvalid  = "the client secret is wrong for this machine user (ClientID is the login name)"
	hintSecretMissing  = "the machine user has no client secret; a secret made moments ago is not active yet"
	hintGrantType      = "the token endpoint does not accept this grant type"
	hintScope          = "check Scopes: at least one valid scope, such as \"openid\", is required"
	hintInvalidGrant   = "the assertion was refused: check the key file, the issuer and the clock"
	hintTokenRejected  = "the access token is invalid, expired or revoked"
	hintWrongURL       = "wrong URL or issuer"
	hintIntrospectAuth = "the API application's key was refused"
)

// hintUserNotFound explains the token endpoint's 404 "Errors.User.NotFound":
// usually a user made a moment ago that ZITADEL's projections do not show
// yet, which heals in moments.
const hintUserNotFound = "ZITADEL does not find the user: a user or key made a moment ago is not visible at first, and the request is retried; " +
	"if this persists, the user does not exist on this instance (check the issuer, and the key file's userId or ClientID)"

// hintFor explains an error answer of endpoint; grant is the token request's
// grant type ("" for other endpoints).
func hintFor(endpoint, grant string, status int, code, description string) string {
	switch {
	case strings.Contains(description, "Instance not found"):
		return hintWrongHost
	case strings.Contains(description, "Errors.User.NotActive"):
		return hintNotActive
	case strings.Contains(description, "Errors.User.Machine.Secret.Invalid"):
		return hintSecretInvalid
	case strings.Contains(description, secretNotProjected):
		return hintSecretMissing
	case endpoint == EndpointToken && strings.Contains(description, userNotProjected):
		return hintUserNotFound
	case status == http.StatusNotFound:
		return hintWrongURL
	}
	switch endpoint {
	case EndpointToken:
		return tokenHint(grant, status, code, description)
	case EndpointUserinfo:
		if status == http.StatusUnauthorized {
			return hintTokenRejected
		}
	case EndpointIntrospection:
		if status == http.StatusUnauthorized || code == "invalid_client" {
			return hintIntrospectAuth
		}
	}
	return ""
}

// tokenHint explains an error answer of the token endpoint.
func tokenHint(grant string, status int, code, description string) string {
	internal := status == http.StatusInternalServerError && (code == "server_error" || strings.Contains(description, "Errors.Internal"))
	switch {
	case internal && grant == grantTypeJWTBearer:
		return hintAssertion
	case internal:
		return hintServer
	case code == "unsupported_grant_type":
		return hintGrantType
	case code == "invalid_scope" || (code == "invalid_request" && strings.Contains(strings.ToLower(description), "scope")):
		return hintScope
	case code == "invalid_grant" && grant == grantTypeJWTBearer:
		return hintInvalidGrant
	}
	return ""
}

// driftWorthNaming is the clock offset a hint names: half the assertion's
// backdating of iat, which a drift beyond it starts to defeat.
const driftWorthNaming = iatBackdate / 2

// clockDrift compares the answer's Date header (the server's clock, to the
// second) with now, when the request was sent, and names an offset that can
// refuse an assertion; "" when there is none or no Date.
func clockDrift(dateHeader string, now time.Time) string {
	date, err := http.ParseTime(dateHeader)
	if err != nil {
		return ""
	}
	offset := date.Sub(now.Truncate(time.Second))
	switch {
	case offset > driftWorthNaming:
		return fmt.Sprintf("ZITADEL's clock is %v ahead of this machine's (its Date header)", offset.Round(time.Second))
	case offset < -driftWorthNaming:
		return fmt.Sprintf("this machine's clock is %v ahead of ZITADEL's (its Date header); assertions are backdated by %v only",
			(-offset).Round(time.Second), iatBackdate)
	}
	return ""
}
