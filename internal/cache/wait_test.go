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

	"github.com/go-serviceuser/serviceuser/internal/cache/cachetest"
)

// expiredAfterFailure returns a cache of one-minute tokens whose token has
// expired and whose last request failed with err, of class: the backoff
// window of a source that had a token.
// fresh: the cache never had a token.
func expiredAfterFailure(t *testing.T, class Class, err error, fresh bool) (*Cache, *cachetest.Fetch) {
	c, f := newScripted(t, time.Minute, classifyAs(class))
	if !fresh {
		_, terr := c.Token(bg)
		require.NoError(t, terr)
		time.Sleep(time.Minute)
	}
	f.FailWith(err)
	_, terr := c.Token(bg)
	require.ErrorIs(t, terr, err)
	require.False(t, c.Valid())
	return c, f
}

// TestCallerWithDeadlineWaitsForNextAttempt: while callers have no token, a
// caller with a deadline waits for the next request when it is due within
// that deadline, instead of taking the last error; callers share that
// request, and the count of requests is that of the backoff schedule.
func TestCallerWithDeadlineWaitsForNextAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		down := errors.New("500 Errors.Internal")
		c, f := expiredAfterFailure(t, Class{Kind: Transient}, down, false)
		before := f.Calls.Load()
		f.FailWith(nil)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(bg, 30*time.Second)
				defer cancel()
				tok, err := c.Token(ctx)
				if assert.NoError(t, err, "a caller with a deadline inside the backoff window") {
					assert.NotEmpty(t, tok.AccessToken)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, before+1, f.Calls.Load(), "the callers share one request, made when the backoff allows")
	})
}

// TestCallerWaitsThroughFailedAttempts: a caller with a deadline waits
// through several failed requests, each due within UrgentMax, and gets the
// token of the first that succeeds.
func TestCallerWaitsThroughFailedAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		down := errors.New("500 Errors.Internal")
		c, f := expiredAfterFailure(t, Class{Kind: Transient}, down, false)
		before := f.Calls.Load()
		go func() {
			time.Sleep(12 * time.Second) // a few more requests fail
			f.FailWith(nil)
		}()
		ctx, cancel := context.WithTimeout(bg, 30*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.Token(ctx)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), 12*time.Second)
		assert.Greater(t, f.Calls.Load()-before, int32(1), "failed requests before the token")
	})
}

// TestCallersWhoDoNotWait: the backoff window's error comes at once, with no
// request, to a caller without a deadline, to one whose deadline ends
// before the next request, after a Permanent error, and from a cache that
// never had a token.
func TestCallersWhoDoNotWait(t *testing.T) {
	down := errors.New("500 Errors.Internal")
	cases := map[string]struct {
		class   Class
		timeout time.Duration // 0: no deadline
		fresh   bool
	}{
		"no deadline":           {class: Class{Kind: Transient}},
		"deadline before next":  {class: Class{Kind: Transient}, timeout: 100 * time.Millisecond},
		"permanent":             {class: Class{Kind: Permanent}, timeout: time.Minute},
		"next beyond UrgentMax": {class: Class{Kind: RateLimited, RetryAfter: 3 * UrgentMax, Overloaded: true}, timeout: time.Hour},
		"never had a token":     {class: Class{Kind: Transient}, timeout: time.Minute, fresh: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, f := expiredAfterFailure(t, tc.class, down, tc.fresh)
				before := f.Calls.Load()
				ctx, cancel := bg, context.CancelFunc(func() {})
				if tc.timeout > 0 {
					ctx, cancel = context.WithTimeout(bg, tc.timeout)
				}
				defer cancel()
				start := time.Now()
				_, err := c.Token(ctx)
				assert.ErrorIs(t, err, down)
				assert.Zero(t, time.Since(start), "the error comes at once")
				assert.Equal(t, before, f.Calls.Load(), "no request")
			})
		})
	}
}

// TestCloseEndsCallersWaitingForNextAttempt: Close ends the wait of callers
// waiting for the next request, with the closed error, at once.
func TestCloseEndsCallersWaitingForNextAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		down := errors.New("500 Errors.Internal")
		c, f := expiredAfterFailure(t, Class{Kind: RateLimited, RetryAfter: UrgentMax / 2}, down, false)
		before := f.Calls.Load()
		done := make(chan error)
		go func() {
			ctx, cancel := context.WithTimeout(bg, time.Minute)
			defer cancel()
			_, err := c.Token(ctx)
			done <- err
		}()
		synctest.Wait() // the caller waits for the next request
		start := time.Now()
		c.Close()
		assert.ErrorIs(t, <-done, ErrClosed)
		assert.Zero(t, time.Since(start))
		assert.Equal(t, before, f.Calls.Load())
	})
}

// TestChangedCredentialWakesWaitingCallers: a new credential ends the
// backoff for everyone: callers waiting for the next request join the
// request it starts at once.
func TestChangedCredentialWakesWaitingCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var changed atomic.Bool
		f := &cachetest.Fetch{Lifetime: time.Minute}
		c := New(bg, f.Fetch, Config{WaitBudget: testBudget, Changed: func() bool { return changed.Swap(false) },
			Classify: classifyAs(Class{Kind: RateLimited, RetryAfter: UrgentMax / 2})})
		defer c.Close()
		_, err := c.Token(bg)
		require.NoError(t, err)
		time.Sleep(time.Minute)
		f.FailWith(errors.New("429"))
		_, err = c.Token(bg)
		require.Error(t, err)
		f.FailWith(nil)
		got := make(chan time.Time)
		go func() {
			ctx, cancel := context.WithTimeout(bg, time.Minute)
			defer cancel()
			_, err := c.Token(ctx)
			assert.NoError(t, err)
			got <- time.Now()
		}()
		synctest.Wait()
		changed.Store(true)
		start := time.Now()
		_, err = c.Token(bg) // starts a request at once: a new credential
		require.NoError(t, err)
		assert.Equal(t, start, <-got, "the waiting caller got the new credential's token")
	})
}

// TestFailedRequestsCallersGetTheTokenThatFollowedIt: callers of a failed
// request that wake after a new credential's request has already brought a
// token get that token, not the old error, with or without a deadline.
func TestFailedRequestsCallersGetTheTokenThatFollowedIt(t *testing.T) {
	for _, timeout := range []time.Duration{0, 30 * time.Second} {
		t.Run(fmt.Sprint(timeout), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var changed atomic.Bool
				var once sync.Once
				f := &cachetest.Fetch{Lifetime: time.Minute}
				var c *Cache
				c = New(bg, f.Fetch, Config{WaitBudget: testBudget, Changed: func() bool { return changed.Swap(false) },
					OnDone: func(_ context.Context, o Outcome) {
						if o.Err == nil {
							return
						}
						once.Do(func() { // before the failed request's callers wake
							changed.Store(true)
							f.FailWith(nil)
							_, err := c.Token(bg)
							assert.NoError(t, err, "a new credential's request")
						})
					}})
				defer c.Close()
				_, err := c.Token(bg)
				require.NoError(t, err)
				time.Sleep(time.Minute)
				f.FailWith(errors.New("500 Errors.Internal"))
				ctx, cancel := bg, context.CancelFunc(func() {})
				if timeout > 0 {
					ctx, cancel = context.WithTimeout(bg, timeout)
				}
				defer cancel()
				tok, err := c.Token(ctx)
				require.NoError(t, err)
				assert.Equal(t, "token-3", tok.AccessToken)
			})
		})
	}
}
