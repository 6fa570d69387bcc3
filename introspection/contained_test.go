package introspection_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
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

// Callbacks the library runs on goroutines of its own (hooks, the
// HTTPClient's RoundTripper) must not end the process when they panic: no
// caller can recover a panic there.

// containedSetup is an in-process fake with an API application and an
// active token for it; call inside a synctest bubble.
func containedSetup(t *testing.T) (srv *serviceusertest.Server, app *serviceusertest.Application, token string) {
	t.Helper()
	srv = serviceusertest.NewServer(serviceusertest.InProcess())
	t.Cleanup(srv.Close)
	app = srv.NewApplication()
	return srv, app, bubbleToken(t, srv, app)
}

// bubbleToken is an active token for app of a new service user of srv, an
// in-process fake.
func bubbleToken(t *testing.T, srv *serviceusertest.Server, app *serviceusertest.Application) string {
	t.Helper()
	cfg := serviceuser.Config{Key: mustKey(t, srv.NewServiceUser().KeyFile), Issuer: srv.Issuer(), HTTPClient: srv.Client(),
		Scopes: []string{"openid", app.AudienceScope()}}
	tok, err := cfg.Token(context.Background())
	require.NoError(t, err)
	return tok.AccessToken
}

// panickingAt panics in RoundTrip for requests to paths ending in suffix,
// with what value returns given the request's body (which holds the
// caller's token and the client assertion); other requests go to base.
type panickingAt struct {
	base   http.RoundTripper
	suffix string
	value  func(body string) any
}

func (p panickingAt) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.URL.Path, p.suffix) {
		return p.base.RoundTrip(r)
	}
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
	}
	panic(p.value(string(body)))
}

// pipelinePanicError is what the token pipeline returns for a RoundTripper
// that panics: introspection must return the same kind of error.
func pipelinePanicError(t *testing.T, srv *serviceusertest.Server) error {
	t.Helper()
	client := &http.Client{Transport: panickingAt{suffix: "/token", base: srv.Client().Transport, value: func(string) any { return "bug" }}}
	cfg := serviceuser.Config{Key: mustKey(t, srv.NewServiceUser().KeyFile), Issuer: srv.Issuer(), HTTPClient: client}
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()
	_, err := ts.Token()
	require.Error(t, err)
	return err
}

// TestPanickingDiscoveryHookIsContained: DiscoveryDone runs on the goroutine
// the request runs on; a panic there is dropped, as Hooks documents, and the
// caller gets ZITADEL's answer.
func TestPanickingDiscoveryHookIsContained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, app, token := containedSetup(t)
		calls := 0
		hk := &hooks.Hooks{DiscoveryDone: func(context.Context, hooks.DiscoveryDoneInfo) { calls++; panic("a bug in a logging callback") }}
		in, err := introspection.Config{Key: mustKey(t, app.KeyFile), Issuer: srv.Issuer(), HTTPClient: srv.Client(), Hooks: hk}.
			NewIntrospector(context.Background())
		require.NoError(t, err)
		r, err := in.Introspect(context.Background(), token)
		require.NoError(t, err)
		assert.True(t, r.Active)
		assert.Equal(t, 1, calls)
	})
}

// TestPanickingHooksInMiddleware: with every introspection hook panicking,
// the middleware answers as without hooks.
func TestPanickingHooksInMiddleware(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, app, token := containedSetup(t)
		hk := &hooks.Hooks{
			DiscoveryDone:     func(context.Context, hooks.DiscoveryDoneInfo) { panic("discovery hook") },
			IntrospectionDone: func(context.Context, hooks.IntrospectionDoneInfo) { panic("introspection hook") },
		}
		in, err := introspection.Config{Key: mustKey(t, app.KeyFile), Issuer: srv.Issuer(), HTTPClient: srv.Client(), Hooks: hk}.
			NewIntrospector(context.Background())
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, serveWith(in, token).Code)
		assert.Equal(t, http.StatusUnauthorized, serveWith(in, "not-a-token").Code)
	})
}

// serveWith sends one request with token through in's middleware.
func serveWith(in *introspection.Introspector, token string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	in.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, req)
	return rec
}

// TestPanickingTransportBecomesError: a panic in the HTTPClient's
// RoundTripper, during discovery or the introspection request, reaches the
// caller as the error the token pipeline returns for it, naming the panic
// value's type but never its text, which may hold the caller's token or the
// assertion. The middleware answers 503, as for any failed introspection,
// and a later call asks again.
func TestPanickingTransportBecomesError(t *testing.T) {
	for name, suffix := range map[string]string{"discovery": "/openid-configuration", "introspection": "/introspect"} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, app, token := containedSetup(t)
				want := pipelinePanicError(t, srv)
				panicking := true
				base := srv.Client().Transport
				rt := panickingAt{suffix: suffix, base: base, value: func(body string) any { return errors.New("cannot send " + body) }}
				client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					if panicking {
						return rt.RoundTrip(r)
					}
					return base.RoundTrip(r)
				})}
				in, err := introspection.Config{Key: mustKey(t, app.KeyFile), Issuer: srv.Issuer(), HTTPClient: client}.
					NewIntrospector(context.Background())
				require.NoError(t, err)

				r, err := in.Introspect(context.Background(), token)
				assert.Nil(t, r)
				require.Error(t, err)
				assert.Equal(t, reflect.TypeOf(want), reflect.TypeOf(err), "the token pipeline's kind of error: %v", err)
				assert.Contains(t, err.Error(), "panicked")
				assert.Contains(t, err.Error(), "*errors.errorString")
				assert.NotContains(t, err.Error(), "cannot send")
				assert.NotContains(t, err.Error(), token)
				assert.Equal(t, http.StatusServiceUnavailable, serveWith(in, token).Code)

				panicking = false
				r, err = in.Introspect(context.Background(), token)
				require.NoError(t, err, "the failure is not kept")
				assert.True(t, r.Active)
			})
		})
	}
}

// roundTripFunc is a RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestGoexitInCallbackReleasesCallers: a callback on the request's goroutine
// that ends it with runtime.Goexit (t.FailNow in a test's hook, say) cannot
// be stopped, but the callers waiting for that request get an error at
// once, and the token is asked about again later rather than waiting
// forever on a request that ended.
func TestGoexitInCallbackReleasesCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, app, token := containedSetup(t)
		exits := true
		hk := &hooks.Hooks{DiscoveryDone: func(context.Context, hooks.DiscoveryDoneInfo) {
			if exits {
				runtime.Goexit()
			}
		}}
		in, err := introspection.Config{Key: mustKey(t, app.KeyFile), Issuer: srv.Issuer(), HTTPClient: srv.Client(), Hooks: hk}.
			NewIntrospector(context.Background())
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		r, err := in.Introspect(ctx, token)
		assert.Nil(t, r)
		require.Error(t, err)
		assert.NotErrorIs(t, err, context.DeadlineExceeded)
		assert.Zero(t, time.Since(start), "answered at once")

		exits = false
		r, err = in.Introspect(ctx, token)
		require.NoError(t, err)
		assert.True(t, r.Active)
	})
}

// panickingHandler is a slog handler whose Handle panics.
type panickingHandler struct{ slog.Handler }

func (panickingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (panickingHandler) Handle(context.Context, slog.Record) error {
	panic("a bug in a log handler")
}

// TestSlogNeverEndsIntrospection: hooks.Slog with a nil logger (which
// means slog.Default()) or a handler that panics logs or drops the event; the
// introspection goes on.
func TestSlogNeverEndsIntrospection(t *testing.T) {
	for name, logger := range map[string]*slog.Logger{
		"nil logger":        nil,
		"panicking handler": slog.New(panickingHandler{slog.NewTextHandler(&bytes.Buffer{}, nil)}),
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, app, token := containedSetup(t)
				in, err := introspection.Config{Key: mustKey(t, app.KeyFile), Issuer: srv.Issuer(), HTTPClient: srv.Client(),
					Hooks: hooks.Slog(logger)}.NewIntrospector(context.Background())
				require.NoError(t, err)
				r, err := in.Introspect(context.Background(), token)
				require.NoError(t, err)
				assert.True(t, r.Active)
				assert.Equal(t, http.StatusOK, serveWith(in, token).Code)
			})
		})
	}
}
