package serviceuser_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

func TestJoinHooksCallsEachInTurn(t *testing.T) {
	var calls []string
	a := &serviceuser.Hooks{RefreshDone: func(context.Context, serviceuser.RefreshDoneInfo) { calls = append(calls, "a") }}
	b := &serviceuser.Hooks{RefreshDone: func(context.Context, serviceuser.RefreshDoneInfo) { calls = append(calls, "b") }}
	joined := serviceuser.JoinHooks(a, nil, &serviceuser.Hooks{}, b)
	joined.RefreshDone(context.Background(), serviceuser.RefreshDoneInfo{})
	assert.Equal(t, []string{"a", "b"}, calls)
	assert.Nil(t, joined.RefreshStart, "no callback set: none joined")
}

// TestJoinHooksJoinsEveryField: every callback of Hooks is a
// func(context.Context, <its name>Info), and JoinHooks passes each event,
// with its ctx, to the callbacks of every hooks value in turn; one that
// panics does not keep the next from running.
func TestJoinHooksJoinsEveryField(t *testing.T) {
	var calls []string
	record := func(who string, hook reflect.Type) reflect.Value {
		return reflect.MakeFunc(hook, func(args []reflect.Value) []reflect.Value {
			ctx, info := args[0].Interface().(context.Context), args[1]
			calls = append(calls, fmt.Sprintf("%s %v %s", who, ctx.Value(ctxKey("caller")), info.Type().Name()))
			if who == "a" {
				panic("a bug in a callback")
			}
			return nil
		})
	}
	var a, b serviceuser.Hooks
	av, bv := reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem()
	for i := range av.NumField() {
		field := av.Type().Field(i)
		hook := field.Type
		require.Equal(t, reflect.Func, hook.Kind(), field.Name)
		require.Equal(t, 2, hook.NumIn(), field.Name)
		require.Equal(t, 0, hook.NumOut(), field.Name)
		require.Equal(t, reflect.TypeFor[context.Context](), hook.In(0), field.Name)
		require.Equal(t, field.Name+"Info", hook.In(1).Name())
		av.Field(i).Set(record("a", hook))
		bv.Field(i).Set(record("b", hook))
	}
	joined := reflect.ValueOf(serviceuser.JoinHooks(&a, nil, &serviceuser.Hooks{}, &b)).Elem()
	for i := range joined.NumField() {
		calls = nil
		name := joined.Type().Field(i).Name
		ctx := context.WithValue(t.Context(), ctxKey("caller"), name)
		joined.Field(i).Call([]reflect.Value{reflect.ValueOf(ctx), reflect.Zero(joined.Field(i).Type().In(1))})
		assert.Equal(t, []string{"a " + name + " " + name + "Info", "b " + name + " " + name + "Info"}, calls)
	}
	only := serviceuser.JoinHooks(nil, &b)
	assert.Equal(t, reflect.ValueOf(b.RefreshDone).Pointer(), reflect.ValueOf(only.RefreshDone).Pointer(),
		"a single callback is not wrapped")
}

// TestSlogHooksNilLoggerLogsToDefault: SlogHooks(nil) logs to slog.Default(),
// the one in place when the event happens, and never panics.
func TestSlogHooksNilLoggerLogsToDefault(t *testing.T) {
	h := serviceuser.SlogHooks(nil)
	var buf bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	h.DiscoveryDone(context.Background(), serviceuser.DiscoveryDoneInfo{})
	h.RefreshStart(context.Background(), serviceuser.RefreshStartInfo{})
	h.RefreshDone(context.Background(), serviceuser.RefreshDoneInfo{})
	h.TokenRejected(context.Background(), serviceuser.TokenRejectedInfo{})
	h.CredentialReloaded(context.Background(), serviceuser.CredentialReloadedInfo{})
	h.IntrospectionDone(context.Background(), serviceuser.IntrospectionDoneInfo{Err: errors.New("HTTP 502")})
	assert.Equal(t, 6, strings.Count(buf.String(), "\n"), buf.String())
	assert.Contains(t, buf.String(), "level=WARN msg=\"serviceuser: introspection failed\"")
}

func TestSlogHooksLevels(t *testing.T) {
	var buf bytes.Buffer
	h := serviceuser.SlogHooks(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	failure := errors.New("serviceuser: token request failed: HTTP 500")
	cases := []struct {
		fire  func()
		level string
		msg   string
	}{
		{func() { h.RefreshDone(context.Background(), serviceuser.RefreshDoneInfo{Err: failure}) }, "WARN", "token request failed"},
		{func() { h.RefreshDone(context.Background(), serviceuser.RefreshDoneInfo{}) }, "DEBUG", "token refreshed"},
		{func() { h.RefreshStart(context.Background(), serviceuser.RefreshStartInfo{Waited: true, Attempt: 1}) }, "DEBUG", "token request"},
		{func() { h.DiscoveryDone(context.Background(), serviceuser.DiscoveryDoneInfo{Err: failure}) }, "WARN", "discovery failed"},
		{func() { h.DiscoveryDone(context.Background(), serviceuser.DiscoveryDoneInfo{}) }, "DEBUG", "discovery done"},
		{func() { h.TokenRejected(context.Background(), serviceuser.TokenRejectedInfo{StatusCode: 401}) }, "WARN", "token rejected"},
		{func() { h.CredentialReloaded(context.Background(), serviceuser.CredentialReloadedInfo{Err: failure}) }, "WARN", "credential refused"},
		{func() { h.CredentialReloaded(context.Background(), serviceuser.CredentialReloadedInfo{KeyID: "k2"}) }, "INFO", "credential reloaded"},
		{func() { h.IntrospectionDone(context.Background(), serviceuser.IntrospectionDoneInfo{Err: failure}) }, "WARN", "introspection failed"},
		{func() { h.IntrospectionDone(context.Background(), serviceuser.IntrospectionDoneInfo{Active: true}) }, "DEBUG", "introspection done"},
		{func() { h.IntrospectionDone(context.Background(), serviceuser.IntrospectionDoneInfo{}) }, "DEBUG", "key refused (ZITADEL answers both alike)"},
	}
	for _, tc := range cases {
		buf.Reset()
		tc.fire()
		line := buf.String()
		assert.Contains(t, line, "level="+tc.level, line)
		assert.Contains(t, line, tc.msg, line)
	}
}

// TestSlogHooksLogsEveryEvent: SlogHooks sets every field of Hooks, and an
// event that reports no error is logged once, at the level its godoc and
// the README give, with the context the event came with: a new hook must
// get its level here too.
func TestSlogHooksLogsEveryEvent(t *testing.T) {
	want := map[string]string{
		"DiscoveryDone":      "DEBUG",
		"RefreshStart":       "DEBUG",
		"RefreshDone":        "DEBUG",
		"TokenRejected":      "WARN", // an API refused a token: always worth a look
		"CredentialReloaded": "INFO",
		"IntrospectionDone":  "DEBUG",
	}
	var buf bytes.Buffer
	text := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	recs := newCtxRecords()
	h := reflect.ValueOf(serviceuser.JoinHooks(serviceuser.SlogHooks(slog.New(text)), serviceuser.SlogHooks(slog.New(recs)))).Elem()
	for i := range h.NumField() {
		name, hook := h.Type().Field(i).Name, h.Field(i)
		if !assert.False(t, hook.IsNil(), "SlogHooks does not log %s", name) {
			continue
		}
		buf.Reset()
		ctx := context.WithValue(t.Context(), ctxKey("caller"), name)
		hook.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.Zero(hook.Type().In(1))})
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		assert.Len(t, lines, 1, name)
		assert.Contains(t, lines[0], "level="+want[name]+" ", "%s: %s", name, lines[0])
		seen := recs.take()
		if assert.Len(t, seen, 1, name) {
			assert.Equal(t, name, seen[0].caller, "%s is logged with its ctx", name)
		}
	}
}

// TestReadyFollowsTheCache: not ready before a token, ready while one is
// cached, and not ready with the failure once none is.
func TestReadyFollowsTheCache(t *testing.T) {
	var fail atomic.Bool
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, `{"error":"server_error","error_description":"Errors.Internal"}`, http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, `{"access_token":"at-1","token_type":"Bearer","expires_in":3600}`)
	}))
	defer endpoint.Close()
	ts := serviceuser.ClientCredentialsConfig{ClientID: "u", ClientSecret: serviceuser.Secret("s"), Issuer: endpoint.URL,
		TokenURL: endpoint.URL + "/oauth/v2/token"}.TokenSource(t.Context())
	defer ts.Close()

	assert.ErrorIs(t, ts.Ready(), serviceuser.ErrNotReady)
	tok, err := ts.Token()
	require.NoError(t, err)
	assert.NoError(t, ts.Ready())

	fail.Store(true)
	ts.Invalidate(tok) // younger than 10 s: kept, still ready
	assert.NoError(t, ts.Ready())

	failing := serviceuser.ClientCredentialsConfig{ClientID: "u", ClientSecret: serviceuser.Secret("s"), Issuer: endpoint.URL,
		TokenURL: endpoint.URL + "/oauth/v2/token"}.TokenSource(t.Context())
	defer failing.Close()
	_, err = failing.Token()
	require.Error(t, err)
	var te *serviceuser.TokenError
	require.ErrorAs(t, failing.Ready(), &te)
	assert.True(t, strings.Contains(te.Error(), "Errors.Internal"))
}

// TestPanickingHooksAreContained sets callbacks that all panic. A panic on
// the refresh goroutine, where nothing can recover it, would end the
// process; elsewhere it would fail the work the callback only observes. The
// source and the Transport go on as without hooks.
func TestPanickingHooksAreContained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := serviceusertest.NewServer(serviceusertest.InProcess())
		defer srv.Close()
		var calls atomic.Int32
		boom := func() { calls.Add(1); panic("a bug in a metrics callback") }
		hooks := &serviceuser.Hooks{
			DiscoveryDone:      func(context.Context, serviceuser.DiscoveryDoneInfo) { boom() },
			RefreshStart:       func(context.Context, serviceuser.RefreshStartInfo) { boom() },
			RefreshDone:        func(context.Context, serviceuser.RefreshDoneInfo) { boom() },
			TokenRejected:      func(context.Context, serviceuser.TokenRejectedInfo) { boom() },
			CredentialReloaded: func(context.Context, serviceuser.CredentialReloadedInfo) { boom() },
		}
		key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
		require.NoError(t, err)
		ts := serviceuser.Config{Key: key, Issuer: srv.Issuer(), HTTPClient: srv.Client(), Hooks: hooks}.TokenSource(t.Context())
		defer ts.Close()
		first, err := ts.Token()
		require.NoError(t, err)

		time.Sleep(time.Until(first.Expiry) - 2*time.Minute) // into the refresh ahead of expiry
		_, err = ts.Token()
		require.NoError(t, err)
		synctest.Wait() // the background refresh ran its hooks
		require.NoError(t, ts.LastError())

		rejecting := roundTripFunc(func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusUnauthorized, Body: http.NoBody, Header: http.Header{}}, nil
		})
		c := &http.Client{Transport: &serviceuser.Transport{Source: ts, Base: rejecting, Hooks: hooks}}
		resp, err := c.Get("https://api.example.com/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.GreaterOrEqual(t, calls.Load(), int32(6), "every callback ran")
	})
}

// TestHooksMayReadTheSource calls the methods documented as safe from the
// refresh's callbacks; a deadlock would end the synctest bubble with an error.
func TestHooksMayReadTheSource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := serviceusertest.NewServer(serviceusertest.InProcess())
		defer srv.Close()
		key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
		require.NoError(t, err)
		var ts *serviceuser.TokenSource
		var reads atomic.Int32
		read := func() {
			_ = ts.LastError()
			_ = ts.Ready()
			ts.Invalidate(nil)
			reads.Add(1)
		}
		hooks := &serviceuser.Hooks{
			RefreshStart: func(context.Context, serviceuser.RefreshStartInfo) { read() },
			RefreshDone:  func(context.Context, serviceuser.RefreshDoneInfo) { read() },
		}
		ts = serviceuser.Config{Key: key, Issuer: srv.Issuer(), HTTPClient: srv.Client(), Hooks: hooks}.TokenSource(t.Context())
		defer ts.Close()
		_, err = ts.Token()
		require.NoError(t, err)
		assert.Equal(t, int32(2), reads.Load())
	})
}

// roundTripFunc is a RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
