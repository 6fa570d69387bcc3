package serviceuser_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// urgencyFaults are answers of an endpoint in trouble: a 429 asking for 29 s,
// and a request that never answers.
var (
	tooManyRequests = serviceusertest.Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"29"}}}
	hang            = serviceusertest.Fault{Hang: true}
)

// urgencySource is a source of one-minute tokens of an in-process fake,
// refreshed 20 s before they stop being served (6 s before they expire),
// whose token requests' durations are recorded.
func urgencySource(t *testing.T, timeout time.Duration) (*serviceusertest.Server, *serviceuser.TokenSource, func() []time.Duration) {
	srv := serviceusertest.NewServer(serviceusertest.InProcess())
	t.Cleanup(srv.Close)
	srv.SetTokenLifetime(time.Minute)
	key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
	require.NoError(t, err)
	var mu sync.Mutex
	var durations []time.Duration
	cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer(), HTTPClient: srv.Client(),
		RefreshAhead: 20 * time.Second, Timeout: timeout,
		Hooks: &hooks.Hooks{RefreshDone: func(_ context.Context, info hooks.RefreshDoneInfo) {
			mu.Lock()
			durations = append(durations, info.Duration)
			mu.Unlock()
		}}}
	ts := cfg.TokenSource(context.Background())
	t.Cleanup(func() { _ = ts.Close() })
	return srv, ts, func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), durations...)
	}
}

// TestNoErrorWhileRefreshFailsNearExpiry: the first five refreshes of a
// one-minute token fail (429 with Retry-After 29 s, a hang, a 500, a 429,
// a hang), all within the last 20 s of the token's service; the new token
// comes before the old one is dropped, and callers asking every 100 ms
// never see an error, then or after.
func TestNoErrorWhileRefreshFailsNearExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, ts, durations := urgencySource(t, 3*time.Second)
		first, err := ts.Token()
		require.NoError(t, err)
		for _, f := range []serviceusertest.Fault{tooManyRequests, hang, {}, tooManyRequests, hang} {
			srv.FailNext(1, f)
		}
		served := first.Expiry.Add(-6 * time.Second) // ExpiryMargin: a tenth of the lifetime
		var last string
		for end := served.Add(30 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			tok, err := ts.Token()
			require.NoError(t, err, "%v after the first token was dropped", time.Since(served))
			if time.Now().Before(served) {
				last = tok.AccessToken
			}
		}
		assert.NotEqual(t, first.AccessToken, last, "refreshed before the token was dropped")
		assert.Equal(t, 1+5+1, srv.TokenRequests())
		d := durations()
		require.Len(t, d, 7)
		assert.Equal(t, 3*time.Second, d[2], "a hang is cut at Timeout when that comes first")
	})
}

// TestHungRefreshCutHalfway: a request that hangs when the token has 8 s
// left ends 4 s later, halfway to the token's end and before the 10 s
// Timeout, so that another request fits; once the token is dropped, the
// next caller gets a token at once.
func TestHungRefreshCutHalfway(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, ts, durations := urgencySource(t, 0)
		first, err := ts.Token()
		require.NoError(t, err)
		served := first.Expiry.Add(-6 * time.Second)
		time.Sleep(time.Until(served) - 8*time.Second)
		srv.FailNext(1, hang)
		_, err = ts.Token()
		require.NoError(t, err)
		time.Sleep(4 * time.Second)
		synctest.Wait()
		assert.Equal(t, []time.Duration{0, 4 * time.Second}, durations())

		time.Sleep(4 * time.Second)
		tok, err := ts.Token()
		require.NoError(t, err)
		assert.NotEqual(t, first.AccessToken, tok.AccessToken)
	})
}
