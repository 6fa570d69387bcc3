package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/cache/cachetest"
	"github.com/go-serviceuser/serviceuser/internal/contain"
)

func TestFailureSharesErrorDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, f := newScripted(t, time.Hour, classifyAs(Class{Kind: Quick}))
		boom := errors.New("503 temporarily_unavailable")
		f.FailWith(boom)
		_, err := c.Token(bg) // retried quickly within this caller's wait
		assert.ErrorIs(t, err, boom)
		calls := f.Calls.Load()
		assert.EqualValues(t, 1+FreshQuickRetries, calls, "quick retries of a cache that never had a token")
		for range 50 {
			_, err := c.Token(bg)
			assert.ErrorIs(t, err, boom)
		}
		assert.Equal(t, calls, f.Calls.Load(), "callers inside the backoff window cause no request")
		assert.ErrorIs(t, c.LastError(), boom)

		time.Sleep(BackoffMax)
		f.FailWith(nil)
		tok, err := c.Token(bg)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("token-%d", calls+1), tok.AccessToken)
		assert.NoError(t, c.LastError())
	})
}

func TestServesValidTokenWhileRefreshFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, f := newScripted(t, time.Hour, nil)
		_, err := c.Token(bg)
		require.NoError(t, err)
		f.FailWith(errors.New("endpoint down"))
		time.Sleep(staleWindow(time.Hour))
		for range 20 {
			tok, err := c.Token(bg)
			require.NoError(t, err)
			assert.Equal(t, "token-1", tok.AccessToken)
			c.wg.Wait()
		}
		assert.EqualValues(t, 2, f.Calls.Load(), "failed refresh not retried inside its backoff window")
		assert.ErrorContains(t, c.LastError(), "endpoint down")
		assert.True(t, c.Valid())
	})
}

func TestExpiredOnArrivalBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, f := newScripted(t, -time.Second, nil)
		for range 10 {
			_, err := c.Token(bg)
			assert.ErrorIs(t, err, errExpiredOnArrival)
		}
		assert.EqualValues(t, 1, f.Calls.Load())
	})
}

// TestEndpointDownForWholeRefreshWindow: callers never see an error while the
// token is valid, and the request count follows the backoff schedule however
// many callers there are.
func TestEndpointDownForWholeRefreshWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const lifetime = 12 * time.Hour
		c, f := newScripted(t, lifetime, classifyAs(Class{Kind: Quick}))
		first, err := c.Token(bg)
		require.NoError(t, err)
		down := errors.New("500 Errors.Internal")
		f.FailWith(down)

		const callers, step = 20, time.Second
		expiresAt, refreshAt := c.snap.Load().expiresAt, c.snap.Load().refreshAt
		for time.Now().Before(expiresAt) {
			var wg sync.WaitGroup
			for range callers {
				wg.Go(func() {
					tok, err := c.Token(bg)
					if assert.NoError(t, err) {
						assert.Same(t, first, tok)
					}
				})
			}
			wg.Wait()
			c.wg.Wait() // let the background refresh finish before time moves on
			time.Sleep(step)
		}
		window := expiresAt.Sub(refreshAt)
		// Pauses are at least half the ceiling: 0.5 s, 1 s, 2 s, ... then 30 s,
		// and in the last minute a quarter of the time left (urgentExtra).
		bound := 7 + int(window/(BackoffMax/2)) + 1 + int(urgentExtra)
		requests := int(f.Calls.Load()) - 1
		t.Logf("%d callers over a %v outage window: %d token requests (bound %d)", callers, window, requests, bound)
		assert.LessOrEqual(t, requests, bound)
		assert.Greater(t, requests, bound/4, "the cache keeps retrying")

		// Once expired, callers share the backoff window's error: no request each.
		before := f.Calls.Load()
		for range 100 {
			_, err := c.Token(bg)
			assert.ErrorIs(t, err, down)
		}
		assert.LessOrEqual(t, f.Calls.Load()-before, int32(1))
	})
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
		c := newTestCache(bg, fetch, nil)
		defer c.Close()
		end := time.Now().Add(span)
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				for time.Now().Before(end) {
					if _, err := c.Token(bg); err != nil {
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
		served := lifetime - lifetime/10
		minGap := served - max(time.Duration(float64(lifetime)*refreshAheadMax), min(MinRefreshAhead, served/3))
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

// TestFetchWithoutTokenOrErrorIsAnError: a fetch that returns neither a token
// nor an error fails the refresh instead of caching nothing.
func TestFetchWithoutTokenOrErrorIsAnError(t *testing.T) {
	c := newTestCache(bg, func(context.Context) (*oauth2.Token, error) { return nil, nil }, nil)
	defer c.Close()
	tok, err := c.Token(bg)
	assert.Nil(t, tok)
	assert.ErrorIs(t, err, errNoToken)
	assert.ErrorIs(t, c.LastError(), errNoToken)
}

// TestPanickingFetchBecomesError: a fetch that panics on the refresh's
// goroutine fails the refresh, for its callers and LastError, without the
// panic's text; the process goes on.
func TestPanickingFetchBecomesError(t *testing.T) {
	c := newTestCache(bg, func(context.Context) (*oauth2.Token, error) { panic("secret-in-panic") }, nil)
	defer c.Close()
	_, err := c.Token(bg)
	var pe *contain.PanicError
	require.ErrorAs(t, err, &pe)
	assert.NotContains(t, err.Error(), "secret-in-panic")
	assert.Equal(t, err, c.LastError())
}

// TestChangedCredentialEndsBackoff: a credential the last request did not
// use is tried at once, inside the backoff window, with its failures
// counted from none (so with the quick retries of a new credential).
func TestChangedCredentialEndsBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var changed atomic.Bool
		f := &cachetest.Fetch{Lifetime: time.Hour}
		f.FailWith(errors.New("key refused"))
		c := New(bg, f.Fetch, Config{Changed: changed.Load, WaitBudget: testBudget,
			Classify: classifyAs(Class{Kind: Permanent})})
		defer c.Close()
		_, err := c.Token(bg)
		require.Error(t, err)
		_, err = c.Token(bg)
		require.Error(t, err)
		require.EqualValues(t, 1, f.Calls.Load(), "inside the backoff window")

		changed.Store(true)
		f.FailWith(nil)
		tok, err := c.Token(bg)
		require.NoError(t, err, "a new credential leaves the backoff at once")
		assert.Equal(t, "token-2", tok.AccessToken)
	})
}

type ctxKey string

// TestCallbacksSeeTheRefresh: OnStart and OnDone follow each token request
// with the refresh's context, which answers Key with Self first, then with
// the values of the caller that waits, and ends only with Close; OnDone is
// told the outcome and, after a failure, when the next request may start.
func TestCallbacksSeeTheRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type start struct {
			waited  bool
			attempt int
		}
		var starts []start
		var outcomes []Outcome
		var selves, callers []any
		var fetchCtx context.Context
		fail := errors.New("refused")
		calls := 0
		fetch := func(ctx context.Context) (*oauth2.Token, error) {
			fetchCtx = ctx
			if calls++; calls == 1 {
				return nil, fail
			}
			return &oauth2.Token{AccessToken: "at", Expiry: time.Now().Add(time.Hour)}, nil
		}
		self := &struct{ name string }{"the cache"}
		c := New(bg, fetch, Config{Key: ctxKey("self"), Self: self,
			OnStart: func(ctx context.Context, waited bool, attempt int) {
				starts = append(starts, start{waited, attempt})
				selves = append(selves, ctx.Value(ctxKey("self")))
			},
			OnDone: func(ctx context.Context, o Outcome) {
				outcomes = append(outcomes, o)
				callers = append(callers, ctx.Value(ctxKey("caller")))
			}})
		defer c.Close()

		// The caller's own value under Key does not hide Self.
		ctx, cancel := context.WithCancel(context.WithValue(context.WithValue(bg, ctxKey("caller"), "first"), ctxKey("self"), "not the cache"))
		_, err := c.Token(ctx)
		require.ErrorIs(t, err, fail)
		cancel()
		assert.NoError(t, fetchCtx.Err(), "a caller's cancellation does not reach the refresh")
		time.Sleep(UrgentMax)
		_, err = c.Token(context.WithValue(bg, ctxKey("caller"), "second"))
		require.NoError(t, err)

		assert.Equal(t, []start{{true, 1}, {true, 2}}, starts)
		assert.Equal(t, []any{self, self}, selves)
		assert.Equal(t, []any{"first", "second"}, callers)
		require.Len(t, outcomes, 2)
		assert.ErrorIs(t, outcomes[0].Err, fail)
		assert.False(t, outcomes[0].NextAttempt.IsZero(), "when the next request may start")
		assert.NoError(t, outcomes[1].Err)
		assert.Equal(t, 2, outcomes[1].Attempt)
		assert.Equal(t, time.Now().Add(time.Hour-ExpiryMargin), outcomes[1].Expiry)

		c.Close()
		assert.ErrorIs(t, fetchCtx.Err(), context.Canceled, "Close ends the refresh's context")
	})
}
