package introspection_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Two Authorization headers are ambiguous: a proxy in front may have
// checked the other one. The middleware refuses them, as the gRPC
// interceptors refuse several authorization values.
func TestMiddlewareRefusesSeveralAuthorizationHeaders(t *testing.T) {
	srv, in, token, _, _ := introspectionSetup(t)
	h := in.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "reached")
	}))
	for _, values := range [][]string{
		{"Bearer " + token, "Bearer not-a-token"},
		{"Bearer not-a-token", "Bearer " + token},
		{"Bearer " + token, "Bearer " + token},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header["Authorization"] = values
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, "%d values", len(values))
		assert.Equal(t, "Bearer", rec.Header().Get("WWW-Authenticate"))
		assert.NotContains(t, rec.Body.String(), "reached")
	}
	assert.Zero(t, srv.IntrospectionRequests(), "nothing asked for an ambiguous request")

	// Odd single headers that carry no bearer token.
	for _, v := range []string{"Bearer", "Bearer ", "Bearer\t" + token, "Basic " + token, " Bearer " + token, "Bearer \r\n"} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", v)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, "%q", v)
	}
}
