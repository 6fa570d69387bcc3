package serviceuser_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/bearer"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

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
		hk := &hooks.Hooks{
			DiscoveryDone:      func(context.Context, hooks.DiscoveryDoneInfo) { boom() },
			RefreshStart:       func(context.Context, hooks.RefreshStartInfo) { boom() },
			RefreshDone:        func(context.Context, hooks.RefreshDoneInfo) { boom() },
			TokenRejected:      func(context.Context, hooks.TokenRejectedInfo) { boom() },
			CredentialReloaded: func(context.Context, hooks.CredentialReloadedInfo) { boom() },
		}
		key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
		require.NoError(t, err)
		ts := serviceuser.Config{Key: key, Issuer: srv.Issuer(), HTTPClient: srv.Client(), Hooks: hk}.TokenSource(t.Context())
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
		c := &http.Client{Transport: &bearer.Transport{Source: ts, Base: rejecting, Hooks: hk}}
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
		hk := &hooks.Hooks{
			RefreshStart: func(context.Context, hooks.RefreshStartInfo) { read() },
			RefreshDone:  func(context.Context, hooks.RefreshDoneInfo) { read() },
		}
		ts = serviceuser.Config{Key: key, Issuer: srv.Issuer(), HTTPClient: srv.Client(), Hooks: hk}.TokenSource(t.Context())
		defer ts.Close()
		_, err = ts.Token()
		require.NoError(t, err)
		assert.Equal(t, int32(2), reads.Load())
	})
}

// roundTripFunc is a RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
