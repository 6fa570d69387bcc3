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
// since nothing is known of the token.
func (in *Introspector) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := BearerToken(r.Header.Values("Authorization"))
		if !ok {
			challenge(w, "")
			return
		}
		result, err := in.Introspect(r.Context(), token)
		switch {
		case err != nil:
			http.Error(w, "token check unavailable", http.StatusServiceUnavailable)
		case !result.Active:
			challenge(w, "invalid_token")
		default:
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), result)))
		}
	})
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

// challenge answers 401 with an RFC 6750 challenge; errorCode may be empty.
func challenge(w http.ResponseWriter, errorCode string) {
	value := "Bearer"
	if errorCode != "" {
		value += ` error="` + errorCode + `"`
	}
	w.Header().Set("WWW-Authenticate", value)
	http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
}
