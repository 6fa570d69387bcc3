package serviceuser

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/internal/cache"
)

// downWhile is a token endpoint that answers 503 while down is set, and a
// token otherwise.
func downWhile(down *atomic.Bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			zitadelAnswer(w, http.StatusServiceUnavailable, "", "")
			return
		}
		zitadelAnswer(w, http.StatusOK, "", "")
	}
}

// TestQuickRetriesStayOneRequestAtATime: 1000 callers waiting on an endpoint
// that fails for a moment share one request stream: never two requests at
// once, and all get the token when it comes.
func TestQuickRetriesStayOneRequestAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var inFlight, maxInFlight, requests atomic.Int32
		h := func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
			}
			time.Sleep(5 * time.Millisecond)
			if time.Since(start) < 300*time.Millisecond {
				zitadelAnswer(w, http.StatusServiceUnavailable, "", "")
				return
			}
			zitadelAnswer(w, http.StatusOK, "", "")
		}
		ts := inProcessSource(t, h)
		defer ts.Close()
		const callers = 1000
		var wg sync.WaitGroup
		var got atomic.Int32
		for i := range callers {
			wg.Go(func() {
				time.Sleep(time.Duration(i) * 200 * time.Microsecond) // callers keep arriving during the retries
				if _, err := ts.Token(); err == nil {
					got.Add(1)
				}
			})
		}
		wg.Wait()
		t.Logf("%d callers: %d requests, at most %d at once", callers, requests.Load(), maxInFlight.Load())
		assert.EqualValues(t, callers, got.Load(), "callers that got a token")
		assert.EqualValues(t, 1, maxInFlight.Load(), "requests at once")
		assert.LessOrEqual(t, requests.Load(), int32(8))
	})
}

// TestRecoveryAfterOutageWhileCallersWait: 20 callers wait without a token
// for a minute while the endpoint answers 503, then it comes back. Once
// callers wait, the source makes its first tries (1 + quickRetries: the
// quick retries, 25 ms to 400 ms apart, that failures counted before the
// wait have not used up), then probes every 5 to 10 s (jitter(cache.UrgentMax)),
// from the end of a failed request. So in the minute: the first tries, then
// at most one request per 5 s after the last of them (which comes at least
// 75 ms, or 375 ms with 4 quick retries, after the first), 11 more; and the
// first token comes within cache.UrgentMax of the return. Three starts:
//   - the endpoint is down from 5 min before the cached token expires:
//     refreshes ahead of expiry have used up the quick retries: 1 + 11;
//   - the token expired while the source was idle: a source that had a
//     token gets cache.RecoveringQuickRetries: 3 + 11;
//   - the source never had a token: cache.FreshQuickRetries: 5 + 11.
//
// The README states these bounds.
func TestRecoveryAfterOutageWhileCallersWait(t *testing.T) {
	starts := []struct {
		name       string
		firstTries int // at most, before the probes 5 to 10 s apart
		wait       func(t *testing.T, ts *TokenSource, down *atomic.Bool, callers func()) time.Time
	}{
		{"refreshes ahead fail for 5 min before the expiry", 1, func(t *testing.T, ts *TokenSource, down *atomic.Bool, callers func()) time.Time {
			first, err := ts.Token()
			require.NoError(t, err)
			time.Sleep(time.Until(first.Expiry) - cache.ExpiryMargin - 5*time.Minute)
			down.Store(true)
			callers()
			time.Sleep(5 * time.Minute) // the token expires now
			return time.Now()
		}},
		{"the token expired while the source was idle", 1 + cache.RecoveringQuickRetries, func(t *testing.T, ts *TokenSource, down *atomic.Bool, callers func()) time.Time {
			first, err := ts.Token()
			require.NoError(t, err)
			time.Sleep(time.Until(first.Expiry))
			down.Store(true)
			callers()
			return time.Now()
		}},
		{"the source never had a token", 1 + cache.FreshQuickRetries, func(t *testing.T, ts *TokenSource, down *atomic.Bool, callers func()) time.Time {
			down.Store(true)
			callers()
			return time.Now()
		}},
	}
	for _, start := range starts {
		t.Run(start.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				most := 0
				for range 5 {
					times, recovered := outageWhileCallersWait(t, start.wait)
					most = max(most, len(times))
					assert.LessOrEqual(t, recovered, cache.UrgentMax+100*time.Millisecond, "first token after the return")
					assert.LessOrEqual(t, len(times), start.firstTries+11, "requests in the minute without a token")
					tries := 1 // the first tries: those less than cache.UrgentMax/2 apart
					for tries < len(times) && times[tries].Sub(times[tries-1]) < cache.UrgentMax/2 {
						tries++
					}
					assert.LessOrEqual(t, tries, start.firstTries, "first tries")
					for i := tries + 1; i < len(times); i++ {
						assert.GreaterOrEqual(t, times[i].Sub(times[i-1]), cache.UrgentMax/2, "gap before request %d", i+1)
					}
				}
				t.Logf("at most %d requests in the minute without a token (bound %d)", most, start.firstTries+11)
			})
		})
	}
}

// outageWhileCallersWait runs one outage on a new source: wait sets down,
// starts the callers (by calling callers) and returns when they begin to wait
// without a token; the endpoint comes back a minute later. It returns the
// times of the token requests in that minute, and how long after the return
// the first new token came.
func outageWhileCallersWait(t *testing.T, wait func(t *testing.T, ts *TokenSource, down *atomic.Bool, callers func()) time.Time) ([]time.Time, time.Duration) {
	var down atomic.Bool
	var mu sync.Mutex
	var times []time.Time
	endpoint := downWhile(&down)
	ts := inProcessSource(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		endpoint(w, r)
	})
	defer ts.Close()
	var stop atomic.Bool
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop.Store(true)
	callers := func() {
		for range 20 {
			wg.Go(func() {
				for !stop.Load() {
					ts.Token()
					time.Sleep(100 * time.Millisecond)
				}
			})
		}
	}
	waiting := wait(t, ts, &down, callers)
	require.Error(t, ts.Ready(), "callers wait without a valid token")
	time.Sleep(time.Minute)
	up := time.Now()
	down.Store(false)
	for {
		if _, err := ts.TokenContext(context.Background()); err == nil { // a new token: none was valid
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	recovered := time.Since(up)
	mu.Lock()
	defer mu.Unlock()
	var in []time.Time
	for _, at := range times {
		if !at.Before(waiting) && at.Before(up) {
			in = append(in, at)
		}
	}
	return in, recovered
}

// TestOutageEndingBeforeExpiryCausesNoCallerError: refreshes ahead of expiry
// fail, patiently spaced up to cache.BackoffMax apart, until just before the
// token expires. The pause after the last failure may reach past the
// expiry; callers must not then be refused for seconds with a stale error.
func TestOutageEndingBeforeExpiryCausesNoCallerError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for range 20 {
			var down atomic.Bool
			ts := inProcessSource(t, downWhile(&down))
			first, err := ts.Token()
			require.NoError(t, err)
			down.Store(true)
			expires := first.Expiry.Add(-cache.ExpiryMargin)
			time.Sleep(time.Until(expires) - 10*time.Minute)
			for time.Until(expires) > time.Second { // a caller whose refreshes fail
				_, err := ts.Token()
				require.NoError(t, err)
				time.Sleep(time.Second)
			}
			down.Store(false)
			refused := 0
			for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
				if _, err := ts.Token(); err != nil {
					refused++
				}
			}
			ts.Close()
			assert.Zero(t, refused, "calls refused after the endpoint came back")
		}
	})
}
