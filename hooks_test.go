package serviceuser_test

import (
	"bytes"
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
	a := &serviceuser.Hooks{RefreshDone: func(serviceuser.RefreshDoneInfo) { calls = append(calls, "a") }}
	b := &serviceuser.Hooks{RefreshDone: func(serviceuser.RefreshDoneInfo) { calls = append(calls, "b") }}
	joined := serviceuser.JoinHooks(a, nil, &serviceuser.Hooks{}, b)
	joined.RefreshDone(serviceuser.RefreshDoneInfo{})
	assert.Equal(t, []string{"a", "b"}, calls)
	assert.Nil(t, joined.RefreshStart, "no callback set: none joined")
}

// TestSlogHooksNilLoggerLogsToDefault: SlogHooks(nil) logs to slog.Default(),
// the one in place when the event happens, and never panics.
func TestSlogHooksNilLoggerLogsToDefault(t *testing.T) {
	h := serviceuser.SlogHooks(nil)
	var buf bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	h.DiscoveryDone(serviceuser.DiscoveryDoneInfo{})
	h.RefreshStart(serviceuser.RefreshStartInfo{})
	h.RefreshDone(serviceuser.RefreshDoneInfo{})
	h.TokenRejected(serviceuser.TokenRejectedInfo{})
	h.CredentialReloaded(serviceuser.CredentialReloadedInfo{})
	h.IntrospectionDone(serviceuser.IntrospectionDoneInfo{Err: errors.New("HTTP 502")})
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
		{func() { h.RefreshDone(serviceuser.RefreshDoneInfo{Err: failure}) }, "WARN", "token request failed"},
		{func() { h.RefreshDone(serviceuser.RefreshDoneInfo{}) }, "DEBUG", "token refreshed"},
		{func() { h.RefreshStart(serviceuser.RefreshStartInfo{Waited: true, Attempt: 1}) }, "DEBUG", "token request"},
		{func() { h.DiscoveryDone(serviceuser.DiscoveryDoneInfo{Err: failure}) }, "WARN", "discovery failed"},
		{func() { h.DiscoveryDone(serviceuser.DiscoveryDoneInfo{}) }, "DEBUG", "discovery done"},
		{func() { h.TokenRejected(serviceuser.TokenRejectedInfo{StatusCode: 401}) }, "WARN", "token rejected"},
		{func() { h.CredentialReloaded(serviceuser.CredentialReloadedInfo{Err: failure}) }, "WARN", "credential refused"},
		{func() { h.CredentialReloaded(serviceuser.CredentialReloadedInfo{KeyID: "k2"}) }, "INFO", "credential reloaded"},
		{func() { h.IntrospectionDone(serviceuser.IntrospectionDoneInfo{Err: failure}) }, "WARN", "introspection failed"},
		{func() { h.IntrospectionDone(serviceuser.IntrospectionDoneInfo{Active: true}) }, "DEBUG", "introspection done"},
		{func() { h.IntrospectionDone(serviceuser.IntrospectionDoneInfo{}) }, "DEBUG", "key refused (ZITADEL answers both alike)"},
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
// the README give: a new hook must get its level here too.
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
	h := reflect.ValueOf(serviceuser.SlogHooks(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))).Elem()
	for i := range h.NumField() {
		name, hook := h.Type().Field(i).Name, h.Field(i)
		if !assert.False(t, hook.IsNil(), "SlogHooks does not log %s", name) {
			continue
		}
		buf.Reset()
		hook.Call([]reflect.Value{reflect.Zero(hook.Type().In(0))})
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		assert.Len(t, lines, 1, name)
		assert.Contains(t, lines[0], "level="+want[name]+" ", "%s: %s", name, lines[0])
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
			DiscoveryDone:      func(serviceuser.DiscoveryDoneInfo) { boom() },
			RefreshStart:       func(serviceuser.RefreshStartInfo) { boom() },
			RefreshDone:        func(serviceuser.RefreshDoneInfo) { boom() },
			TokenRejected:      func(serviceuser.TokenRejectedInfo) { boom() },
			CredentialReloaded: func(serviceuser.CredentialReloadedInfo) { boom() },
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
			RefreshStart: func(serviceuser.RefreshStartInfo) { read() },
			RefreshDone:  func(serviceuser.RefreshDoneInfo) { read() },
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
