package introspection_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
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

// serve sends a GET with the given Authorization values (none when empty)
// to h and returns the recorded answer.
func serve(h http.Handler, authorization ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, v := range authorization {
		req.Header.Add("Authorization", v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// subjectHandler writes the subject of the request's Result, or "anonymous".
var subjectHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if info, ok := introspection.FromContext(r.Context()); ok {
		io.WriteString(w, info.Subject)
		return
	}
	io.WriteString(w, "anonymous")
})

// TestRequire: an active token with the role is let through; one without
// gets 403 insufficient_scope; an inactive or missing token 401, and 503
// when the endpoint cannot tell.
func TestRequire(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	app := srv.NewApplication()
	in := projectIntrospector(t, srv, app, app.ProjectID)
	admin, adminToken := serviceUserToken(t, srv, app.AudienceScope())
	srv.GrantRole(admin.UserID, app.ProjectID, "admin")
	reader, readerToken := serviceUserToken(t, srv, app.AudienceScope())
	srv.GrantRole(reader.UserID, app.ProjectID, "reader")
	other := srv.NewOrganization("Other Org")

	h := in.Require(introspection.RequireAnyRole("admin"), subjectHandler)
	rec := serve(h, "Bearer "+adminToken)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, admin.UserID, rec.Body.String())

	rec = serve(h, "Bearer "+readerToken)
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Equal(t, `Bearer error="insufficient_scope"`, rec.Header().Get("WWW-Authenticate"))
	assert.NotContains(t, rec.Body.String(), reader.UserID)

	rec = serve(in.Require(introspection.RequireAnyRole("admin").InOrg(other), subjectHandler), "Bearer "+adminToken)
	assert.Equal(t, http.StatusForbidden, rec.Code, "the role is held in the user's organization, not in the other")
	rec = serve(in.Require(introspection.RequireAnyRole("admin").InOrg(admin.OrgID), subjectHandler), "Bearer "+adminToken)
	assert.Equal(t, http.StatusOK, rec.Code)
	rec = serve(in.Require(introspection.RequireAllRoles("admin", "reader"), subjectHandler), "Bearer "+adminToken)
	assert.Equal(t, http.StatusForbidden, rec.Code)
	srv.GrantRole(admin.UserID, app.ProjectID, "reader")
	rec = serve(in.Require(introspection.RequireAllRoles("admin", "reader"), subjectHandler), "Bearer "+adminToken)
	assert.Equal(t, http.StatusOK, rec.Code, "a grant counts at once")

	rec = serve(h)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "Bearer", rec.Header().Get("WWW-Authenticate"))
	rec = serve(h, "Bearer not-a-token")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `Bearer error="invalid_token"`, rec.Header().Get("WWW-Authenticate"))
	rec = serve(h, "Bearer "+adminToken, "Bearer "+adminToken)
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "several Authorization headers count as none")

	srv.FailNextIntrospection(introspection.MaxAttempts, serviceusertest.Fault{Status: http.StatusBadGateway})
	rec = serve(h, "Bearer "+adminToken)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
}

// Require inside Middleware (or Optional) checks the Result already in the
// request's context: one introspection per request, not two.
func TestRequireUsesResultInContext(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	app := srv.NewApplication()
	in := projectIntrospector(t, srv, app, "") // no cache: every check asks
	user, token := serviceUserToken(t, srv, app.AudienceScope())
	srv.GrantRole(user.UserID, app.ProjectID, "admin")

	for name, outer := range map[string]func(http.Handler) http.Handler{"Middleware": in.Middleware, "Optional": in.Optional} {
		before := srv.IntrospectionRequests()
		rec := serve(outer(in.Require(introspection.RequireAnyRole("admin"), subjectHandler)), "Bearer "+token)
		assert.Equal(t, http.StatusOK, rec.Code, name)
		assert.Equal(t, 1, srv.IntrospectionRequests()-before, name)
	}
	// Under Optional without a token, Require still asks for one.
	rec := serve(in.Optional(in.Require(introspection.Requirement{}, subjectHandler)))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)

	// A Result put there by a handler's test counts as well.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req = req.WithContext(introspection.NewContext(req.Context(),
		answered(t, `{"active":true,"sub":"u1","urn:zitadel:iam:org:project:roles":{"admin":{"o1":"one.example"}}}`)))
	rec = httptest.NewRecorder()
	before := srv.IntrospectionRequests()
	in.Require(introspection.RequireAnyRole("admin"), subjectHandler).ServeHTTP(rec, req)
	assert.Equal(t, "u1", rec.Body.String())
	assert.Equal(t, before, srv.IntrospectionRequests())
}

// TestOptional: a request without an Authorization header gets through with
// no Result; one with a valid token with its Result; one with a token that
// is not active, or with an Authorization that is no single bearer token,
// gets 401 as behind Middleware; 503 when the endpoint cannot tell.
func TestOptional(t *testing.T) {
	srv, in, token, user, _ := introspectionSetup(t)
	h := in.Optional(subjectHandler)

	rec := serve(h)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "anonymous", rec.Body.String())
	assert.Zero(t, srv.IntrospectionRequests())

	rec = serve(h, "Bearer "+token)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, user.UserID, rec.Body.String())

	for _, auth := range [][]string{{"Bearer not-a-token"}, {"Basic dXNlcjpwYXNz"}, {"Bearer " + token, "Bearer " + token}, {""}} {
		rec = serve(h, auth...)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, "%q", auth)
		assert.NotEqual(t, "anonymous", rec.Body.String())
	}
	assert.Equal(t, `Bearer error="invalid_token"`, serve(h, "Bearer not-a-token").Header().Get("WWW-Authenticate"))

	srv.FailNextIntrospection(introspection.MaxAttempts, serviceusertest.Fault{Status: http.StatusBadGateway})
	rec = serve(h, "Bearer "+opaqueToken("another-token"))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
}
