package introspection

import (
	"net/http"
	"strings"
)

// Middleware lets through requests whose bearer token ZITADEL reports active,
// with the Result in their context (see FromContext). A request without a
// token (see BearerToken: several Authorization headers count as none), or
// with an inactive one, gets 401 with a WWW-Authenticate challenge (RFC
// 6750); when the introspection endpoint cannot be reached it gets 503,
// since nothing is known of the token. It is Require with the zero
// Requirement, so a Result already in the request's context (an outer
// Middleware's) is used as it is.
func (in *Introspector) Middleware(next http.Handler) http.Handler {
	return in.Require(Requirement{}, next)
}

// Require is Middleware for requests whose token must also meet q, such as
// RequireAnyRole("admin"): an active token that does not gets 403 with the
// challenge `Bearer error="insufficient_scope"` (RFC 6750 section 3.1).
// When the request's context already holds a Result (an outer Middleware
// or Optional put it there), q is checked against that one, without asking
// ZITADEL again, unless it is a JWT verified locally (Result.Local) and in
// introspects every token (see AlwaysIntrospect).
func (in *Introspector) Require(q Requirement, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		result, ok := FromContext(r.Context())
		// A JWT verified locally is checked again by an Introspector that
		// introspects every token (AlwaysIntrospect).
		if !ok || result.Local && in.jwt == nil {
			if result, ok = in.check(w, r); !ok {
				return
			}
		}
		switch {
		case !result.Active:
			challenge(w, http.StatusUnauthorized, "invalid_token")
		case !q.MetBy(result):
			challenge(w, http.StatusForbidden, "insufficient_scope")
		default:
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), result)))
		}
	})
}

// Optional is Middleware for routes open to anyone: a request without an
// Authorization header reaches next with no Result in its context. One that
// sends a header is treated as behind Middleware, so an inactive token, or
// a header that is not one bearer token, gets 401 rather than the anonymous
// answer: a client that sends an expired token learns so, instead of
// getting less than it asked for without a word. Handlers tell the two
// cases apart with FromContext.
func (in *Introspector) Optional(next http.Handler) http.Handler {
	checked := in.Middleware(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, sent := r.Header["Authorization"]; !sent {
			next.ServeHTTP(w, r)
			return
		}
		checked.ServeHTTP(w, r)
	})
}

// check introspects the request's bearer token; when there is none, or
// ZITADEL cannot be asked, it answers the request and ok is false.
func (in *Introspector) check(w http.ResponseWriter, r *http.Request) (result *Result, ok bool) {
	token, ok := BearerToken(r.Header.Values("Authorization"))
	if !ok {
		challenge(w, http.StatusUnauthorized, "")
		return nil, false
	}
	result, err := in.Introspect(r.Context(), token)
	if err != nil {
		http.Error(w, "token check unavailable", http.StatusServiceUnavailable)
		return nil, false
	}
	return result, true
}

// BearerToken returns the token of a request's Authorization values, as
// http.Header.Values("Authorization") or gRPC's "authorization" metadata
// give them: ok only when there is exactly one value and it is "Bearer "
// (the scheme in any case, as RFC 6750 allows) and a token. Several values
// count as none: a proxy in front may have checked another one than the
// first.
func BearerToken(values []string) (token string, ok bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// challenge answers status with an RFC 6750 challenge; errorCode may be
// empty.
func challenge(w http.ResponseWriter, status int, errorCode string) {
	value := "Bearer"
	if errorCode != "" {
		value += ` error="` + errorCode + `"`
	}
	w.Header().Set("WWW-Authenticate", value)
	http.Error(w, http.StatusText(status), status)
}
