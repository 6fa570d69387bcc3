package introspection

import (
	"context"
	"net/http"
	"strings"
)

// Middleware lets through requests whose bearer token ZITADEL reports active,
// with the Result in their context (see FromContext). A request without a
// token (several Authorization headers count as none), or with an inactive
// one, gets 401 with a WWW-Authenticate challenge (RFC 6750); when the
// introspection endpoint cannot be reached it gets 503, since nothing is
// known of the token.
func (in *Introspector) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r)
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
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), resultKey{}, result)))
		}
	})
}

// bearerToken returns the request's bearer token, if it has one. Several
// Authorization headers count as none: a proxy in front may have checked
// another one than the first.
func bearerToken(r *http.Request) (string, bool) {
	values := r.Header.Values("Authorization")
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
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
