package serviceuser_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// events records every hook call, in order, as the value passed.
type events struct {
	mu  sync.Mutex
	all []any
}

func (e *events) add(v any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, v)
}

func (e *events) list() []any {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]any(nil), e.all...)
}

func (e *events) hooks() *hooks.Hooks {
	return &hooks.Hooks{
		DiscoveryDone:      func(_ context.Context, i hooks.DiscoveryDoneInfo) { e.add(i) },
		RefreshStart:       func(_ context.Context, i hooks.RefreshStartInfo) { e.add(i) },
		RefreshDone:        func(_ context.Context, i hooks.RefreshDoneInfo) { e.add(i) },
		TokenRejected:      func(_ context.Context, i hooks.TokenRejectedInfo) { e.add(i) },
		CredentialReloaded: func(_ context.Context, i hooks.CredentialReloadedInfo) { e.add(i) },
		IntrospectionDone:  func(_ context.Context, i hooks.IntrospectionDoneInfo) { e.add(i) },
	}
}

// inProcessConfig is a Config for a new service user of an in-process fake.
func inProcessConfig(t *testing.T, hk *hooks.Hooks) (*serviceusertest.Server, serviceuser.Config) {
	t.Helper()
	srv := serviceusertest.NewServer(serviceusertest.InProcess())
	t.Cleanup(srv.Close)
	key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
	require.NoError(t, err)
	return srv, serviceuser.Config{Key: key, Issuer: srv.Issuer(), HTTPClient: srv.Client(), Hooks: hk}
}

func TestHooksSeeDiscoveryAndRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		_, cfg := inProcessConfig(t, ev.hooks())
		ts := cfg.TokenSource(t.Context())
		defer ts.Close()
		tok, err := ts.Token()
		require.NoError(t, err)

		got := ev.list()
		require.Len(t, got, 3, "%v", got)
		assert.Equal(t, hooks.RefreshStartInfo{Waited: true, Attempt: 1}, got[0])
		disc := got[1].(hooks.DiscoveryDoneInfo) // discovery is part of the first request
		assert.Equal(t, cfg.Issuer, disc.Issuer)
		assert.NoError(t, disc.Err)
		done := got[2].(hooks.RefreshDoneInfo)
		assert.True(t, done.Waited)
		assert.NoError(t, done.Err)
		assert.True(t, done.Expiry.After(time.Now()) && !done.Expiry.After(tok.Expiry), "expiry %v, token %v", done.Expiry, tok.Expiry)
	})
}

func TestHooksSeeFailedRefreshAndBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		srv, cfg := inProcessConfig(t, ev.hooks())
		srv.FailNext(100, serviceusertest.Fault{})
		ts := cfg.TokenSource(t.Context())
		defer ts.Close()
		_, err := ts.Token()
		require.Error(t, err)

		var dones []hooks.RefreshDoneInfo
		for _, e := range ev.list() {
			if d, ok := e.(hooks.RefreshDoneInfo); ok {
				dones = append(dones, d)
			}
		}
		require.NotEmpty(t, dones)
		for i, d := range dones {
			assert.Equal(t, i+1, d.Attempt, "attempts count up within the wait")
			var te *serviceuser.TokenError
			assert.ErrorAs(t, d.Err, &te)
		}
		last := dones[len(dones)-1]
		assert.True(t, last.NextAttempt.After(time.Now()), "the last failure names the end of its backoff")
	})
}

func TestHooksSeeTokenRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		srv, cfg := inProcessConfig(t, ev.hooks())
		cfg.Scopes = []string{"openid", scope.ZitadelAPI}
		ts := cfg.TokenSource(t.Context())
		defer ts.Close()
		tok, err := ts.Token()
		require.NoError(t, err)
		srv.RevokeToken(tok.AccessToken)
		time.Sleep(time.Minute) // old enough to be dropped

		resp, err := ts.Client().Get(srv.ManagementURL() + "/orgs/me")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "retried with a new token")

		var rejected []hooks.TokenRejectedInfo
		for _, e := range ev.list() {
			if r, ok := e.(hooks.TokenRejectedInfo); ok {
				rejected = append(rejected, r)
			}
		}
		assert.Equal(t, []hooks.TokenRejectedInfo{{InvalidateCalled: true, Retried: true}}, rejected)
	})
}

// TestHookEventsCarryNoSecret: a token endpoint that echoes the request's
// assertion puts nothing secret into any event.
func TestHookEventsCarryNoSecret(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		_, cfg := inProcessConfig(t, ev.hooks())
		var assertions []string
		var mu sync.Mutex
		echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			mu.Lock()
			assertions = append(assertions, r.Form.Get("assertion"))
			mu.Unlock()
			w.Header().Set("X-Echo", r.Form.Get("assertion"))
			http.Error(w, `{"error":"server_error","error_description":"bad assertion `+r.Form.Get("assertion")+`"}`, 500)
		})
		cfg.TokenURL = cfg.Issuer + "/oauth/v2/token"
		cfg.HTTPClient = &http.Client{Transport: handlerTransport{echo}}
		ts := cfg.TokenSource(t.Context())
		defer ts.Close()
		_, err := ts.Token()
		require.Error(t, err)

		mu.Lock()
		defer mu.Unlock()
		require.NotEmpty(t, assertions)
		for _, e := range ev.list() {
			text := fmt.Sprintf("%v %+v %#v", e, e, e)
			for _, a := range assertions {
				assert.False(t, strings.Contains(text, a), "an event holds the assertion: %s", text)
			}
		}
	})
}
