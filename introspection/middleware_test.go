package introspection_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-serviceuser/serviceuser/introspection"
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

// TestBearerToken: exactly one value with the Bearer scheme, in any case,
// and a token; anything else is no token.
func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		values []string
		token  string
	}{
		{[]string{"Bearer abc"}, "abc"},
		{[]string{"bearer abc"}, "abc"},
		{[]string{"BEARER  abc "}, "abc"},
		{nil, ""},
		{[]string{}, ""},
		{[]string{"Bearer abc", "Bearer abc"}, ""},
		{[]string{"Bearer abc", "Bearer def"}, ""},
		{[]string{"Bearer"}, ""},
		{[]string{"Bearer "}, ""},
		{[]string{"Bearer\tabc"}, ""},
		{[]string{"Basic abc"}, ""},
		{[]string{" Bearer abc"}, ""},
	} {
		token, ok := introspection.BearerToken(tc.values)
		assert.Equal(t, tc.token, token, "%q", tc.values)
		assert.Equal(t, tc.token != "", ok, "%q", tc.values)
	}
}

// TestResultContext: NewContext and FromContext carry a Result; a context
// without one, or with a nil one, holds none.
func TestResultContext(t *testing.T) {
	r := &introspection.Result{Active: true, Subject: "user-1"}
	got, ok := introspection.FromContext(introspection.NewContext(context.Background(), r))
	assert.True(t, ok)
	assert.Same(t, r, got)
	_, ok = introspection.FromContext(context.Background())
	assert.False(t, ok)
	_, ok = introspection.FromContext(introspection.NewContext(context.Background(), nil))
	assert.False(t, ok)
}
