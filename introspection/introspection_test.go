package introspection_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// introspectionSetup makes an API application and a service user's token
// for the application's project.
func introspectionSetup(t *testing.T) (*serviceusertest.Server, *introspection.Introspector, string, *serviceusertest.ServiceUser, *serviceusertest.Application) {
	srv := serviceusertest.NewServer()
	t.Cleanup(srv.Close)
	app := srv.NewApplication()
	key, err := serviceuser.ParseKeyFile(app.KeyFile)
	require.NoError(t, err)
	in, err := introspection.Config{Key: key, Issuer: srv.Issuer()}.NewIntrospector(context.Background())
	require.NoError(t, err)
	user, token := serviceUserToken(t, srv, app.AudienceScope())
	return srv, in, token, user, app
}

func TestIntrospect(t *testing.T) {
	srv, in, token, user, _ := introspectionSetup(t)
	r, err := in.Introspect(context.Background(), token)
	require.NoError(t, err)
	assert.True(t, r.Active)
	assert.Equal(t, user.UserID, r.Subject)
	assert.True(t, r.ExpiresAt.After(time.Now()), "exp %v", r.ExpiresAt)

	r, err = in.Introspect(context.Background(), opaqueToken("not-a-token"))
	require.NoError(t, err)
	assert.False(t, r.Active)
	assert.Equal(t, 2, srv.IntrospectionRequests())

	_, err = in.Introspect(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.IntrospectionRequests(), "active result cached")
}

func TestIntrospectWithWrongClientAssertion(t *testing.T) {
	srv, _, token, _, _ := introspectionSetup(t)
	other := serviceusertest.NewServer() // its application is unknown to srv
	defer other.Close()
	key, err := serviceuser.ParseKeyFile(other.NewApplication().KeyFile)
	require.NoError(t, err)
	in, err := introspection.Config{Key: key, Issuer: srv.Issuer()}.NewIntrospector(context.Background())
	require.NoError(t, err)
	// ZITADEL answers a refused client assertion as it answers an inactive token.
	r, err := in.Introspect(context.Background(), token)
	require.NoError(t, err)
	assert.False(t, r.Active)

	_, err = introspection.Config{Key: mustKey(t, srv.NewServiceUser().KeyFile), Issuer: srv.Issuer()}.NewIntrospector(context.Background())
	var ce *serviceuser.ConfigError
	assert.ErrorAs(t, err, &ce, "a service user key cannot authenticate an API")
}

func TestMiddleware(t *testing.T) {
	srv, in, token, user, app := introspectionSetup(t)
	api := httptest.NewServer(in.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, ok := introspection.FromContext(r.Context())
		if ok {
			io.WriteString(w, info.Subject)
		}
	})))
	defer api.Close()
	call := func(auth string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, api.URL, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}

	resp, _ := call("")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "Bearer", resp.Header.Get("WWW-Authenticate"))
	resp, _ = call("Bearer not-active")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer error="invalid_token"`, resp.Header.Get("WWW-Authenticate"))
	resp, body := call("Bearer " + token)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, user.UserID, body)

	// Concurrent requests with a new token: one introspection between them.
	_, other := serviceUserToken(t, srv, app.AudienceScope())
	before := srv.IntrospectionRequests()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			resp, _ := call("Bearer " + other)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
	wg.Wait()
	assert.Equal(t, 1, srv.IntrospectionRequests()-before)
}

func TestMiddlewareWhenIntrospectionFails(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	key := mustKey(t, srv.NewApplication().KeyFile)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	in, err := introspection.Config{Key: key, Issuer: srv.Issuer(), IntrospectionURL: dead.URL, Timeout: time.Second}.NewIntrospector(context.Background())
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+opaqueToken("x"))
	in.Middleware(http.NotFoundHandler()).ServeHTTP(rec, req)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	_, err = in.Introspect(context.Background(), opaqueToken("x"))
	assert.False(t, errors.Is(err, context.Canceled))
	assert.Error(t, err)
}

// TestIntrospectionDoneHook: every Introspect call is told to
// Hooks.IntrospectionDone, with whether the cache answered, the outcome and
// the time it took; discovery is told to Hooks.DiscoveryDone.
func TestIntrospectionDoneHook(t *testing.T) {
	srv, _, token, _, app := introspectionSetup(t)
	var mu sync.Mutex
	var got []hooks.IntrospectionDoneInfo
	discoveries := 0
	hk := &hooks.Hooks{
		IntrospectionDone: func(_ context.Context, i hooks.IntrospectionDoneInfo) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, i)
		},
		DiscoveryDone: func(_ context.Context, i hooks.DiscoveryDoneInfo) {
			assert.NoError(t, i.Err)
			assert.Equal(t, srv.Issuer(), i.Issuer)
			discoveries++
		},
	}
	in, err := introspection.Config{Key: mustKey(t, app.KeyFile), Issuer: srv.Issuer(), Hooks: hk}.NewIntrospector(context.Background())
	require.NoError(t, err)
	for range 2 {
		_, err = in.Introspect(context.Background(), token)
		require.NoError(t, err)
	}
	_, err = in.Introspect(context.Background(), "not-a-token")
	require.NoError(t, err)
	srv.FailNextIntrospection(introspection.MaxAttempts, serviceusertest.Fault{Status: http.StatusBadGateway})
	_, failure := in.Introspect(context.Background(), opaqueToken("another-token"))
	require.Error(t, failure)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = in.Introspect(ctx, token)
	require.ErrorIs(t, err, context.Canceled)

	require.Len(t, got, 5)
	assert.Positive(t, got[0].Duration, "a request takes time")
	assert.Equal(t, hooks.IntrospectionDoneInfo{Active: true, Duration: got[0].Duration}, got[0])
	assert.Equal(t, hooks.IntrospectionDoneInfo{CacheHit: true, Active: true, Duration: got[1].Duration}, got[1])
	assert.Equal(t, hooks.IntrospectionDoneInfo{Duration: got[2].Duration}, got[2])
	assert.Equal(t, hooks.IntrospectionDoneInfo{Duration: got[3].Duration, Err: failure}, got[3])
	var te *serviceuser.TokenError
	require.ErrorAs(t, failure, &te)
	assert.Equal(t, serviceuser.EndpointIntrospection, te.Endpoint)
	assert.Equal(t, http.StatusBadGateway, te.StatusCode)
	assert.Equal(t, hooks.IntrospectionDoneInfo{Err: context.Canceled, Duration: got[4].Duration}, got[4])
	assert.Equal(t, 1, discoveries)
}

// TestPanickingIntrospectionHookIsContained: a hook that panics is stopped
// there, as Hooks documents; the caller gets its answer.
func TestPanickingIntrospectionHookIsContained(t *testing.T) {
	srv, _, token, _, app := introspectionSetup(t)
	hk := &hooks.Hooks{IntrospectionDone: func(context.Context, hooks.IntrospectionDoneInfo) { panic("a bug in a metrics callback") }}
	in, err := introspection.Config{Key: mustKey(t, app.KeyFile), Issuer: srv.Issuer(), Hooks: hk}.NewIntrospector(context.Background())
	require.NoError(t, err)
	r, err := in.Introspect(context.Background(), token)
	require.NoError(t, err)
	assert.True(t, r.Active)
}

// TestInactiveAnswerReusedBriefly: a client retrying a refused token costs
// one introspection per 5 s, not one per call.
func TestInactiveAnswerReusedBriefly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := serviceusertest.NewServer(serviceusertest.InProcess())
		defer srv.Close()
		app := srv.NewApplication()
		in, err := introspection.Config{Key: mustKey(t, app.KeyFile), Issuer: srv.Issuer(), HTTPClient: srv.Client()}.
			NewIntrospector(context.Background())
		require.NoError(t, err)
		for range 10 {
			r, err := in.Introspect(context.Background(), opaqueToken("revoked-token-0123456789"))
			require.NoError(t, err)
			assert.False(t, r.Active)
		}
		assert.Equal(t, 1, srv.IntrospectionRequests())
		time.Sleep(5 * time.Second)
		_, err = in.Introspect(context.Background(), opaqueToken("revoked-token-0123456789"))
		require.NoError(t, err)
		assert.Equal(t, 2, srv.IntrospectionRequests(), "asked again after 5 s")
	})
}
