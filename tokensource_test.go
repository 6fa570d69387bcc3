package serviceuser

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/cache"
	"github.com/go-serviceuser/serviceuser/internal/cache/cachetest"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// newScripted is a token source around a cachetest.Fetch; inside a synctest
// bubble both run on the bubble's clock.
func newScripted(t *testing.T, lifetime time.Duration) (*TokenSource, *cachetest.Fetch) {
	f := &cachetest.Fetch{Lifetime: lifetime}
	ts := newTestSource(context.Background(), f.Fetch)
	t.Cleanup(func() { ts.Close() })
	return ts, f
}

func TestZeroTokenSourceFailsCleanly(t *testing.T) {
	var ts TokenSource
	_, err := ts.Token()
	assert.ErrorIs(t, err, errZeroTokenSource)
	assert.NoError(t, ts.LastError())
	assert.ErrorIs(t, ts.Ready(), ErrNotReady)
	ts.Invalidate(&oauth2.Token{})
	assert.NoError(t, ts.Close())
}

// TestTokenSourceCloseStopsRefresh: Close ends a refresh that a caller waits
// for with ErrClosed and the refresh's last error, on one line, and leaves
// no goroutine of the source.
func TestTokenSourceCloseStopsRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, f := newScripted(t, time.Hour)
		f.Gate = make(chan struct{}) // never released: only Close can end the request
		f.Entered = make(chan struct{}, 1)
		result := make(chan error, 1)
		go func() {
			_, err := ts.Token()
			result <- err
		}()
		<-f.Entered
		require.Equal(t, 1, cachetest.RefreshGoroutines())
		ts.Close()
		err := <-result
		assert.ErrorIs(t, err, ErrClosed)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, "serviceuser: token source closed (last error: context canceled)", err.Error(), "one line")
		cachetest.RequireNoRefreshGoroutines(t)

		_, err = ts.Token()
		assert.ErrorIs(t, err, ErrClosed)
		assert.EqualValues(t, 1, f.Calls.Load(), "no request after Close")
	})
}

// gatedTransport holds token requests until gate is closed, and reports
// each one on entered, before sending them through base.
type gatedTransport struct {
	base          http.RoundTripper
	gate, entered chan struct{}
}

func (g *gatedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/oauth/v2/token" {
		g.entered <- struct{}{}
		<-g.gate
	}
	return g.base.RoundTrip(r)
}

// TestRefreshAheadAgainstSlowServer: while the server holds the refresh,
// every caller gets the current token at once; afterwards, the new one.
func TestRefreshAheadAgainstSlowServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gated := &gatedTransport{gate: make(chan struct{}), entered: make(chan struct{}, 2)}
		close(gated.gate) // the first token comes at once
		srv, ts := fakeSource(t, func(base http.RoundTripper) http.RoundTripper {
			gated.base = base
			return gated
		})
		first, err := ts.Token()
		require.NoError(t, err)
		<-gated.entered

		gated.gate = make(chan struct{}) // the server is now slow to answer
		time.Sleep(staleWindow(serviceusertest.DefaultTokenLifetime))
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				tok, err := ts.Token()
				assert.NoError(t, err)
				assert.Same(t, first, tok)
			})
		}
		<-gated.entered // the refresh is held inside the token request...
		wg.Wait()       // ...and all 100 callers have their token
		assert.Equal(t, 1, srv.IssuedTokens())

		close(gated.gate)
		synctest.Wait() // the refresh has ended
		second, err := ts.Token()
		require.NoError(t, err)
		assert.NotEqual(t, first.AccessToken, second.AccessToken)
		assert.Equal(t, 2, srv.TokenRequests())
	})
}

// panickingTransport panics inside RoundTrip with what value returns, given
// the request's body (which holds the assertion).
type panickingTransport struct{ value func(body string) any }

func (p panickingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	panic(p.value(string(body)))
}

type transportBug struct{ detail string }

func (b *transportBug) Error() string { return "transport bug: " + b.detail }

// nilMapWrite panics with the runtime's own error.
func nilMapWrite(string) any {
	var m map[string]int
	//lint:ignore SA5000 a nil map write is the runtime error under test
	m["x"]++
	return nil
}

// TestPanicInTransportBecomesError: a panic in the user's RoundTripper during
// a refresh reaches the caller and LastError as an error naming the panic
// value's type, never its text (it may hold the assertion) unless the
// runtime wrote it.
func TestPanicInTransportBecomesError(t *testing.T) {
	cases := map[string]struct {
		value          func(body string) any
		typeName, text string
	}{
		"string":        {func(body string) any { return "cannot send " + body }, "string", ""},
		"error":         {func(body string) any { return &transportBug{detail: body} }, "*serviceuser.transportBug", ""},
		"nil":           {func(string) any { return nil }, "*runtime.PanicNilError", "nil argument"},
		"runtime error": {nilMapWrite, "runtime.plainError", "nil map"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := Config{Key: testKeyFile(t), Issuer: "https://zitadel.example.com", TokenURL: "https://zitadel.example.com/oauth/v2/token",
				HTTPClient: &http.Client{Transport: panickingTransport{tc.value}}}
			ts := cfg.TokenSource(context.Background())
			defer ts.Close()
			_, err := ts.Token()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.typeName)
			assert.Contains(t, err.Error(), tc.text)
			for _, shown := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				assert.NotContains(t, shown, "assertion=")
				assert.NotContains(t, shown, "cannot send")
				assert.NotContains(t, shown, "transport bug")
			}
			assert.Equal(t, err, ts.LastError())
			assert.False(t, isPermanent(err), "retried with backoff")
		})
	}
}

// staleWindow moves the clock into the refresh-ahead window of a fresh token
// of lifetime d (past the latest jittered start, before the expiry margin).
func staleWindow(d time.Duration) time.Duration {
	return time.Duration(float64(d)*(1-cache.RefreshAheadMin)) + time.Second
}
