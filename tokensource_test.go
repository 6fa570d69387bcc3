package serviceuser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// scriptedFetch hands out numbered tokens of a fixed lifetime, counting calls.
// While gate is non-nil each call blocks until gate yields (or ctx ends).
type scriptedFetch struct {
	lifetime time.Duration
	calls    atomic.Int32
	gate     chan struct{}
	entered  chan struct{} // receives once per call, if non-nil
	fail     atomic.Pointer[error]
}

func (f *scriptedFetch) fetch(ctx context.Context) (*oauth2.Token, error) {
	n := f.calls.Add(1)
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := f.fail.Load(); err != nil {
		return nil, *err
	}
	return &oauth2.Token{AccessToken: fmt.Sprintf("token-%d", n), TokenType: "Bearer", Expiry: time.Now().Add(f.lifetime)}, nil
}

func (f *scriptedFetch) failWith(err error) { f.fail.Store(&err) }

// newScripted is a token source around a scriptedFetch; inside a synctest
// bubble both run on the bubble's clock.
func newScripted(t *testing.T, lifetime time.Duration) (*TokenSource, *scriptedFetch) {
	f := &scriptedFetch{lifetime: lifetime}
	ts := newTestSource(context.Background(), f.fetch)
	t.Cleanup(func() { ts.Close() })
	return ts, f
}

func TestTokenSourceCachesToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, f := newScripted(t, 12*time.Hour)
		for range 100 {
			tok, err := ts.Token()
			require.NoError(t, err)
			assert.Equal(t, "token-1", tok.AccessToken)
			time.Sleep(time.Minute) // 100 minutes of a 12 h token: still fresh
		}
		assert.EqualValues(t, 1, f.calls.Load())
		requireNoRefreshGoroutines(t) // nothing runs between refreshes, before any Close
	})
}

func TestTokenSourceConcurrentColdStartMakesOneRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, f := newScripted(t, 12*time.Hour)
		f.gate = make(chan struct{})
		const callers = 1000
		var wg sync.WaitGroup
		tokens := make(chan string, callers)
		for range callers {
			wg.Go(func() {
				tok, err := ts.Token()
				if assert.NoError(t, err) {
					tokens <- tok.AccessToken
				}
			})
		}
		close(f.gate) // callers arriving after the refresh find the cached token
		wg.Wait()
		close(tokens)
		assert.EqualValues(t, 1, f.calls.Load(), "token requests")
		count := 0
		for tok := range tokens {
			assert.Equal(t, "token-1", tok)
			count++
		}
		assert.Equal(t, callers, count)
	})
}

// staleWindow moves the clock into the refresh-ahead window of a fresh token
// of lifetime d (past the latest jittered start, before the expiry margin).
func staleWindow(d time.Duration) time.Duration {
	return time.Duration(float64(d)*(1-refreshAheadMin)) + time.Second
}

func TestTokenSourceRefreshesAheadWithoutBlocking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, f := newScripted(t, time.Hour)
		_, err := ts.Token()
		require.NoError(t, err)

		f.gate = make(chan struct{}) // the token endpoint now hangs until released
		f.entered = make(chan struct{}, 1)
		time.Sleep(staleWindow(time.Hour))
		// Breaks the deadlock a waiting caller would cause; the assertions below
		// then fail on the token it got, instead of the test hanging.
		watchdog := time.AfterFunc(time.Minute, func() { close(f.gate) })

		const callers = 100
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				tok, err := ts.Token()
				assert.NoError(t, err)
				assert.Equal(t, "token-1", tok.AccessToken, "stale token served during refresh")
			})
		}
		<-f.entered // the background refresh is blocked inside the endpoint...
		wg.Wait()   // ...and every caller has returned: none waited on it
		assert.EqualValues(t, 2, f.calls.Load(), "one background refresh for all callers")

		require.True(t, watchdog.Stop(), "a caller waited on the refresh")
		close(f.gate)
		ts.wg.Wait()
		tok, err := ts.Token()
		require.NoError(t, err)
		assert.Equal(t, "token-2", tok.AccessToken)
	})
}

func TestTokenSourceExpiredWaitsForRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, _ := newScripted(t, time.Hour)
		_, err := ts.Token()
		require.NoError(t, err)
		time.Sleep(time.Hour) // past expiry: callers must wait
		tok, err := ts.Token()
		require.NoError(t, err)
		assert.Equal(t, "token-2", tok.AccessToken)
	})
}

func TestTokenSourceCallerContextEndsWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, f := newScripted(t, time.Hour)
		f.gate = make(chan struct{})
		f.entered = make(chan struct{}, 1)
		ctx, cancel := context.WithCancel(context.Background())
		result := make(chan error, 1)
		go func() {
			_, err := ts.TokenContext(ctx)
			result <- err
		}()
		<-f.entered
		cancel()
		assert.ErrorIs(t, <-result, context.Canceled)

		// The shared refresh went on and serves the next caller.
		close(f.gate)
		tok, err := ts.Token()
		require.NoError(t, err)
		assert.Equal(t, "token-1", tok.AccessToken)
		assert.EqualValues(t, 1, f.calls.Load())
	})
}

func TestTokenSourceCloseStopsRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, f := newScripted(t, time.Hour)
		f.gate = make(chan struct{}) // never released: only Close can end the request
		f.entered = make(chan struct{}, 1)
		result := make(chan error, 1)
		go func() {
			_, err := ts.Token()
			result <- err
		}()
		<-f.entered
		require.Equal(t, 1, refreshGoroutines())
		ts.Close()
		err := <-result
		assert.ErrorIs(t, err, ErrClosed)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, "serviceuser: token source closed (last error: context canceled)", err.Error(), "one line")
		requireNoRefreshGoroutines(t)

		_, err = ts.Token()
		assert.ErrorIs(t, err, ErrClosed)
		assert.EqualValues(t, 1, f.calls.Load(), "no request after Close")
	})
}

// TestTokenSourceOutlivesItsContext: the ctx given to a config's TokenSource
// only supplies values; cancelling it (a setup timeout, a request's ctx)
// must not stop refreshes. Close does.
func TestTokenSourceOutlivesItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &scriptedFetch{lifetime: time.Hour}
		ctx, cancel := context.WithCancel(context.Background())
		ts := newTestSource(ctx, f.fetch)
		cancel()
		tok, err := ts.Token()
		require.NoError(t, err)
		assert.Equal(t, "token-1", tok.AccessToken)
		time.Sleep(2 * time.Hour) // expired: the next call must refresh
		tok, err = ts.Token()
		require.NoError(t, err, "a cancelled setup ctx must not stop refreshes")
		assert.Equal(t, "token-2", tok.AccessToken)

		require.NoError(t, ts.Close())
		time.Sleep(2 * time.Hour)
		_, err = ts.Token()
		assert.ErrorIs(t, err, ErrClosed, "Close ends the source")
		assert.EqualValues(t, 2, f.calls.Load())
	})
}

func TestTokenSourceFailureSharesErrorDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, f := newScripted(t, time.Hour)
		boom := &TokenError{StatusCode: 503, Code: "temporarily_unavailable"}
		f.failWith(boom)
		_, err := ts.Token() // retried quickly within this caller's wait
		assert.ErrorIs(t, err, boom)
		calls := f.calls.Load()
		for range 50 {
			_, err := ts.Token()
			assert.ErrorIs(t, err, boom)
		}
		assert.Equal(t, calls, f.calls.Load(), "callers inside the backoff window cause no request")
		assert.ErrorIs(t, ts.LastError(), boom)

		time.Sleep(backoffMax)
		f.fail.Store(nil)
		tok, err := ts.Token()
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("token-%d", calls+1), tok.AccessToken)
		assert.NoError(t, ts.LastError())
	})
}

func TestTokenSourceServesValidTokenWhileRefreshFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, f := newScripted(t, time.Hour)
		_, err := ts.Token()
		require.NoError(t, err)
		f.failWith(errors.New("endpoint down"))
		time.Sleep(staleWindow(time.Hour))
		for range 20 {
			tok, err := ts.Token()
			require.NoError(t, err)
			assert.Equal(t, "token-1", tok.AccessToken)
			ts.wg.Wait()
		}
		assert.EqualValues(t, 2, f.calls.Load(), "failed refresh not retried inside its backoff window")
		assert.ErrorContains(t, ts.LastError(), "endpoint down")
	})
}

func TestNewSnapshotSchedule(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 100 {
		s := timing{}.schedule(&oauth2.Token{Expiry: now.Add(12 * time.Hour)}, now, false)
		assert.Equal(t, now.Add(12*time.Hour-expiryMargin), s.expiresAt)
		ahead := s.expiresAt.Sub(s.refreshAt)
		assert.GreaterOrEqual(t, ahead, time.Duration(refreshAheadMin*float64(12*time.Hour)))
		assert.LessOrEqual(t, ahead, time.Duration(refreshAheadMax*float64(12*time.Hour)))
		cold := timing{}.schedule(&oauth2.Token{Expiry: now.Add(12 * time.Hour)}, now, true)
		ahead = cold.expiresAt.Sub(cold.refreshAt)
		assert.GreaterOrEqual(t, ahead, time.Duration(refreshAheadMin*float64(12*time.Hour)))
		assert.LessOrEqual(t, ahead, time.Duration(coldRefreshAheadMax*float64(12*time.Hour)), "a first token's refresh is spread wider")
	}
	short := timing{}.schedule(&oauth2.Token{Expiry: now.Add(10 * time.Second)}, now, false)
	assert.Equal(t, now.Add(9*time.Second), short.expiresAt, "margin is at most a tenth of the lifetime")
}

func TestTokenSourceExpiredOnArrivalBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, f := newScripted(t, -time.Second)
		for range 10 {
			_, err := ts.Token()
			assert.ErrorIs(t, err, errExpiredOnArrival)
		}
		assert.EqualValues(t, 1, f.calls.Load())
	})
}

// TestEndpointDownForWholeRefreshWindow: callers never see an error while the
// token is valid, and the request count follows the backoff schedule however
// many callers there are.
func TestEndpointDownForWholeRefreshWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const lifetime = 12 * time.Hour
		ts, f := newScripted(t, lifetime)
		first, err := ts.Token()
		require.NoError(t, err)
		f.failWith(&TokenError{StatusCode: 500, Code: "server_error", Description: "Errors.Internal"})

		const callers, step = 20, time.Second
		expiresAt, refreshAt := ts.snap.Load().expiresAt, ts.snap.Load().refreshAt
		for time.Now().Before(expiresAt) {
			var wg sync.WaitGroup
			for range callers {
				wg.Go(func() {
					tok, err := ts.Token()
					if assert.NoError(t, err) {
						assert.Same(t, first, tok)
					}
				})
			}
			wg.Wait()
			ts.wg.Wait() // let the background refresh finish before time moves on
			time.Sleep(step)
		}
		window := expiresAt.Sub(refreshAt)
		// Pauses are at least half the ceiling: 0.5 s, 1 s, 2 s, ... then 30 s.
		bound := 7 + int(window/(backoffMax/2)) + 1
		requests := int(f.calls.Load()) - 1
		t.Logf("%d callers over a %v outage window: %d token requests (bound %d)", callers, window, requests, bound)
		assert.LessOrEqual(t, requests, bound)
		assert.Greater(t, requests, bound/4, "the source keeps retrying")

		// Once expired, callers share the backoff window's error: no request each.
		before := f.calls.Load()
		for range 100 {
			_, err := ts.Token()
			var te *TokenError
			assert.ErrorAs(t, err, &te)
		}
		assert.LessOrEqual(t, f.calls.Load()-before, int32(1))
	})
}

func TestInvalidateKeepsNewerToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, f := newScripted(t, time.Hour)
		first, err := ts.Token()
		require.NoError(t, err)
		time.Sleep(minInvalidateAge)
		ts.Invalidate(first)
		second, err := ts.Token()
		require.NoError(t, err)
		assert.Equal(t, "token-2", second.AccessToken)

		ts.Invalidate(first) // stale report: the newer token stays
		third, err := ts.Token()
		require.NoError(t, err)
		assert.Same(t, second, third)
		assert.EqualValues(t, 2, f.calls.Load())
	})
}

func TestZeroTokenSourceFailsCleanly(t *testing.T) {
	var ts TokenSource
	_, err := ts.Token()
	assert.ErrorIs(t, err, errZeroTokenSource)
	assert.NoError(t, ts.Close())
}

func TestInvalidateSparesFreshToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, f := newScripted(t, time.Hour)
		for range 5 { // an API that refuses every token
			tok, err := ts.Token()
			require.NoError(t, err)
			ts.Invalidate(tok)
			time.Sleep(time.Second)
		}
		assert.EqualValues(t, 1, f.calls.Load(), "a fresh token is not dropped")
		time.Sleep(minInvalidateAge)
		tok, err := ts.Token()
		require.NoError(t, err)
		ts.Invalidate(tok)
		_, err = ts.Token()
		require.NoError(t, err)
		assert.EqualValues(t, 2, f.calls.Load())
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
		ts.wg.Wait()
		second, err := ts.Token()
		require.NoError(t, err)
		assert.NotEqual(t, first.AccessToken, second.AccessToken)
		assert.Equal(t, 2, srv.TokenRequests())
	})
}

// TestCloseRacesStartingRefresh runs Token and Close on two goroutines many
// times: under -race, starting a refresh must synchronise with Close, and no
// fetch may begin once Close has returned.
func TestCloseRacesStartingRefresh(t *testing.T) {
	const rounds = 20000
	var late atomic.Int32
	for range rounds {
		var closed atomic.Bool
		fetch := func(ctx context.Context) (*oauth2.Token, error) {
			if closed.Load() {
				late.Add(1)
			}
			return nil, errors.New("no token here")
		}
		ts := newTestSource(context.Background(), fetch)
		var wg sync.WaitGroup
		wg.Go(func() { ts.Token() })
		wg.Go(func() {
			ts.Close()
			closed.Store(true)
		})
		wg.Wait()
		ts.Close() // waits for a refresh that started late, if any
	}
	assert.Zero(t, late.Load(), "fetches started after Close returned")
}

// TestOneRefreshPerWindow: with short tokens and many callers on a fake
// clock, each token's refresh window causes exactly one token request.
func TestOneRefreshPerWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const lifetime, span, callers = time.Second, 10 * time.Second, 1000
		var mu sync.Mutex
		var fetchedAt []time.Time
		fetch := func(context.Context) (*oauth2.Token, error) {
			now := time.Now()
			mu.Lock()
			fetchedAt = append(fetchedAt, now)
			mu.Unlock()
			return &oauth2.Token{AccessToken: "at", Expiry: now.Add(lifetime)}, nil
		}
		ts := newTestSource(context.Background(), fetch)
		defer ts.Close()
		end := time.Now().Add(span)
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				for time.Now().Before(end) {
					if _, err := ts.Token(); err != nil {
						t.Error(err)
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		// A token is refreshed no earlier than its refresh window opens
		// (the first token's window is wider).
		minGap := time.Duration(float64(lifetime)*(1-refreshAheadMax)) - lifetime/10
		extra := 0
		for i := 2; i < len(fetchedAt); i++ {
			if fetchedAt[i].Sub(fetchedAt[i-1]) < minGap {
				extra++
			}
		}
		t.Logf("%d callers over %v of %v tokens: %d token requests", callers, span, lifetime, len(fetchedAt))
		assert.Zero(t, extra, "token requests beyond one per refresh window")
	})
}

// TestStaleReaderAfterRefreshStartsNone: a caller that saw the stale token
// just before a refresh ended must not start another refresh. Such a caller
// has loaded the snapshot and not yet called refreshAhead; the test plays its
// part by calling refreshAhead with the snapshot it read, once the refresh
// has ended.
func TestStaleReaderAfterRefreshStartsNone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		fetch := func(context.Context) (*oauth2.Token, error) {
			calls.Add(1)
			return &oauth2.Token{AccessToken: "at", Expiry: time.Now().Add(time.Hour)}, nil
		}
		ts := newTestSource(context.Background(), fetch)
		defer ts.Close()
		_, err := ts.Token()
		require.NoError(t, err)
		time.Sleep(staleWindow(time.Hour))

		stale := ts.snap.Load() // the late caller reads the stale token
		_, err = ts.Token()     // another caller starts the refresh ahead...
		require.NoError(t, err)
		synctest.Wait() // ...which ends and caches a fresh token
		require.NotSame(t, stale, ts.snap.Load())
		ts.refreshAhead(stale) // the late caller decides on what it read
		synctest.Wait()
		assert.EqualValues(t, 2, calls.Load(), "token requests")
	})
}

// TestRetryAfterCappedAtBackoffCeiling: one answer with Retry-After: 3600 (a
// proxy's maintenance page) locks callers out for at most the backoff
// ceiling once the endpoint has recovered.
func TestRetryAfterCappedAtBackoffCeiling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var requests atomic.Int32
		endpoint := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if requests.Add(1) == 1 {
				w.Header().Set("Retry-After", "3600")
				http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"at","token_type":"Bearer","expires_in":43199}`)
		})
		ts := inProcessSource(t, endpoint)
		defer ts.Close()

		_, err := ts.Token()
		var te *TokenError
		require.ErrorAs(t, err, &te)
		require.Equal(t, time.Hour, te.RetryAfter)

		time.Sleep(backoffMax)
		tok, err := ts.Token()
		require.NoError(t, err, "still locked out %v after the failure", backoffMax)
		assert.Equal(t, "at", tok.AccessToken)
		assert.EqualValues(t, 2, requests.Load())
	})
}

// TestFetchWithoutTokenOrErrorIsAnError: a fetch that returns neither a token
// nor an error fails the refresh instead of caching nothing.
func TestFetchWithoutTokenOrErrorIsAnError(t *testing.T) {
	ts := newTestSource(context.Background(), func(context.Context) (*oauth2.Token, error) { return nil, nil })
	defer ts.Close()
	tok, err := ts.Token()
	assert.Nil(t, tok)
	assert.ErrorIs(t, err, errNoToken)
	assert.ErrorIs(t, ts.LastError(), errNoToken)
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

// TestPanicInTransportBecomesError: a panic in the user's RoundTripper during
// a refresh reaches the caller and LastError as an error naming the panic
// value's type, never its text (it may hold the assertion) unless the
// runtime wrote it.
// nilMapWrite panics with the runtime's own error.
func nilMapWrite(string) any {
	var m map[string]int
	//lint:ignore SA5000 a nil map write is the runtime error under test
	m["x"]++
	return nil
}

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

// zitadelAnswer writes a token endpoint answer: a token, or an OAuth error.
func zitadelAnswer(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status == http.StatusOK {
		fmt.Fprint(w, `{"access_token":"at","token_type":"Bearer","expires_in":43199}`)
		return
	}
	fmt.Fprintf(w, `{"error":%q,"error_description":%q}`, code, description)
}

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

// inProcessSource is a key-file source whose token endpoint is h, called in-process.
func inProcessSource(t *testing.T, h http.HandlerFunc) *TokenSource {
	cfg := Config{Key: testKeyFile(t), Issuer: "https://zitadel.example.com", TokenURL: "https://zitadel.example.com/oauth/v2/token",
		HTTPClient: newInProcess(h).client()}
	return cfg.TokenSource(context.Background())
}

// TestFreshKeyWorksOnFirstCall: ZITADEL refuses a key made moments ago with
// 500 Errors.Internal until its projection catches up; a service started
// right after the key was made gets a token on its first call.
func TestFreshKeyWorksOnFirstCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const sources = 100
		ok, requests := 0, 0
		for range sources {
			created := time.Now()
			h := func(w http.ResponseWriter, r *http.Request) {
				requests++
				if time.Since(created) < 50*time.Millisecond {
					zitadelAnswer(w, http.StatusInternalServerError, "server_error", "Errors.Internal")
					return
				}
				zitadelAnswer(w, http.StatusOK, "", "")
			}
			time.Sleep(rand.N(40 * time.Millisecond)) // the service starts soon after
			ts := inProcessSource(t, h)
			if _, err := ts.Token(); err == nil {
				ok++
			}
			ts.Close()
		}
		t.Logf("%d of %d first calls got a token, %d requests", ok, sources, requests)
		assert.Equal(t, sources, ok, "first calls that got a token")
		assert.LessOrEqual(t, requests, 4*sources)
	})
}

// TestFreshSecretWorksOnFirstCall: a client secret made a moment ago is
// refused with 400 Errors.User.Machine.Secret.NotExisting; it must not lock
// the source out for minutes, and a first call made within a second of its
// creation gets a token.
func TestFreshSecretWorksOnFirstCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		created := time.Now()
		var requests atomic.Int32
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			if time.Since(created) < time.Second {
				zitadelAnswer(w, http.StatusBadRequest, "invalid_request", "Errors.User.Machine.Secret.NotExisting")
				return
			}
			zitadelAnswer(w, http.StatusOK, "", "")
		})
		cfg := ClientCredentialsConfig{ClientID: "machine", ClientSecret: Secret("s3cret"), Issuer: "https://zitadel.example.com",
			TokenURL: "https://zitadel.example.com/oauth/v2/token", HTTPClient: newInProcess(h).client()}
		ts := cfg.TokenSource(context.Background())
		defer ts.Close()
		tok, err := ts.Token()
		require.NoError(t, err)
		assert.Equal(t, "at", tok.AccessToken)
		took := time.Since(created)
		t.Logf("token after %v and %d requests", took, requests.Load())
		assert.LessOrEqual(t, took, 3*time.Second)
	})
}

// TestPermanentErrorBacksOffFromSeconds: an error that needs a change (a
// deactivated user) is retried after seconds, then less and less often,
// never first after minutes.
func TestPermanentErrorBacksOffFromSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var times []time.Time
		h := func(w http.ResponseWriter, r *http.Request) {
			times = append(times, time.Now())
			zitadelAnswer(w, http.StatusBadRequest, "invalid_request", "Errors.User.NotActive")
		}
		ts := inProcessSource(t, h)
		defer ts.Close()
		for end := time.Now().Add(10 * time.Minute); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			_, err := ts.Token()
			require.Error(t, err)
		}
		require.Greater(t, len(times), 2)
		var gaps []time.Duration
		for i := 1; i < len(times); i++ {
			gaps = append(gaps, times[i].Sub(times[i-1]).Round(100*time.Millisecond))
		}
		t.Logf("%d requests in 10 min, gaps %v", len(times), gaps)
		assert.LessOrEqual(t, gaps[0], 2*time.Second+100*time.Millisecond, "first retry after seconds")
		for i, g := range gaps {
			assert.LessOrEqual(t, g, min(backoffMax, 2*time.Second<<i)+100*time.Millisecond, "gap %d", i)
		}
		assert.GreaterOrEqual(t, len(times), 10, "retried while it fails")
	})
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
// wait have not used up), then probes every 5 to 10 s (jitter(urgentMax)),
// from the end of a failed request. So in the minute: the first tries, then
// at most one request per 5 s after the last of them (which comes at least
// 75 ms, or 375 ms with 4 quick retries, after the first), 11 more; and the
// first token comes within urgentMax of the return. Three starts:
//   - the endpoint is down from 5 min before the cached token expires:
//     refreshes ahead of expiry have used up the quick retries: 1 + 11;
//   - the token expired while the source was idle: a source that had a
//     token gets recoveringQuickRetries: 3 + 11;
//   - the source never had a token: freshQuickRetries: 5 + 11.
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
			time.Sleep(time.Until(first.Expiry) - expiryMargin - 5*time.Minute)
			down.Store(true)
			callers()
			time.Sleep(5 * time.Minute) // the token expires now
			return time.Now()
		}},
		{"the token expired while the source was idle", 1 + recoveringQuickRetries, func(t *testing.T, ts *TokenSource, down *atomic.Bool, callers func()) time.Time {
			first, err := ts.Token()
			require.NoError(t, err)
			time.Sleep(time.Until(first.Expiry))
			down.Store(true)
			callers()
			return time.Now()
		}},
		{"the source never had a token", 1 + freshQuickRetries, func(t *testing.T, ts *TokenSource, down *atomic.Bool, callers func()) time.Time {
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
					assert.LessOrEqual(t, recovered, urgentMax+100*time.Millisecond, "first token after the return")
					assert.LessOrEqual(t, len(times), start.firstTries+11, "requests in the minute without a token")
					tries := 1 // the first tries: those less than urgentMax/2 apart
					for tries < len(times) && times[tries].Sub(times[tries-1]) < urgentMax/2 {
						tries++
					}
					assert.LessOrEqual(t, tries, start.firstTries, "first tries")
					for i := tries + 1; i < len(times); i++ {
						assert.GreaterOrEqual(t, times[i].Sub(times[i-1]), urgentMax/2, "gap before request %d", i+1)
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
	before := ts.snap.Load()
	time.Sleep(time.Minute)
	up := time.Now()
	down.Store(false)
	for {
		if _, err := ts.TokenContext(context.Background()); err == nil && ts.snap.Load() != before {
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

// TestRetryAfterSpreadsAFleet: sources told "Retry-After: 1" come back after
// at least a second, but not all in the same moment.
func TestRetryAfterSpreadsAFleet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		var retries []time.Duration
		var wg sync.WaitGroup
		for range 50 {
			n := 0
			h := func(w http.ResponseWriter, r *http.Request) {
				if n++; n == 1 {
					w.Header().Set("Retry-After", "1")
					zitadelAnswer(w, http.StatusTooManyRequests, "", "")
					return
				}
				mu.Lock()
				retries = append(retries, time.Since(start))
				mu.Unlock()
				zitadelAnswer(w, http.StatusOK, "", "")
			}
			ts := inProcessSource(t, h)
			wg.Go(func() {
				defer ts.Close()
				for _, err := ts.Token(); err != nil; _, err = ts.Token() {
					time.Sleep(10 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		require.Len(t, retries, 50)
		slices.Sort(retries)
		t.Logf("retries between %v and %v", retries[0], retries[len(retries)-1])
		assert.GreaterOrEqual(t, retries[0], time.Second, "Retry-After honoured")
		assert.Greater(t, retries[len(retries)-1]-retries[0], 500*time.Millisecond, "retries spread")
	})
}

// TestOutageEndingBeforeExpiryCausesNoCallerError: refreshes ahead of expiry
// fail, patiently spaced up to backoffMax apart, until just before the
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
			expires := first.Expiry.Add(-expiryMargin)
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
