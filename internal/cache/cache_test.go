package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/cache/cachetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// bg is the context of a caller that waits as long as it takes.
var bg = context.Background()

func TestCachesToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, f := newScripted(t, 12*time.Hour, nil)
		for range 100 {
			tok, err := c.Token(bg)
			require.NoError(t, err)
			assert.Equal(t, "token-1", tok.AccessToken)
			time.Sleep(time.Minute) // 100 minutes of a 12 h token: still fresh
		}
		assert.EqualValues(t, 1, f.Calls.Load())
		cachetest.RequireNoRefreshGoroutines(t) // nothing runs between refreshes, before any Close
	})
}

func TestConcurrentColdStartMakesOneRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, f := newScripted(t, 12*time.Hour, nil)
		f.Gate = make(chan struct{})
		const callers = 1000
		var wg sync.WaitGroup
		tokens := make(chan string, callers)
		for range callers {
			wg.Go(func() {
				tok, err := c.Token(bg)
				if assert.NoError(t, err) {
					tokens <- tok.AccessToken
				}
			})
		}
		close(f.Gate) // callers arriving after the refresh find the cached token
		wg.Wait()
		close(tokens)
		assert.EqualValues(t, 1, f.Calls.Load(), "token requests")
		count := 0
		for tok := range tokens {
			assert.Equal(t, "token-1", tok)
			count++
		}
		assert.Equal(t, callers, count)
	})
}

func TestRefreshesAheadWithoutBlocking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, f := newScripted(t, time.Hour, nil)
		_, err := c.Token(bg)
		require.NoError(t, err)

		f.Gate = make(chan struct{}) // the token endpoint now hangs until released
		f.Entered = make(chan struct{}, 1)
		time.Sleep(staleWindow(time.Hour))
		// Breaks the deadlock a waiting caller would cause; the assertions below
		// then fail on the token it got, instead of the test hanging.
		watchdog := time.AfterFunc(time.Minute, func() { close(f.Gate) })

		const callers = 100
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				tok, err := c.Token(bg)
				assert.NoError(t, err)
				assert.Equal(t, "token-1", tok.AccessToken, "stale token served during refresh")
			})
		}
		<-f.Entered // the background refresh is blocked inside the endpoint...
		wg.Wait()   // ...and every caller has returned: none waited on it
		assert.EqualValues(t, 2, f.Calls.Load(), "one background refresh for all callers")

		require.True(t, watchdog.Stop(), "a caller waited on the refresh")
		close(f.Gate)
		c.wg.Wait()
		tok, err := c.Token(bg)
		require.NoError(t, err)
		assert.Equal(t, "token-2", tok.AccessToken)
	})
}

func TestExpiredWaitsForRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newScripted(t, time.Hour, nil)
		_, err := c.Token(bg)
		require.NoError(t, err)
		time.Sleep(time.Hour) // past expiry: callers must wait
		tok, err := c.Token(bg)
		require.NoError(t, err)
		assert.Equal(t, "token-2", tok.AccessToken)
	})
}

func TestCallerContextEndsWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, f := newScripted(t, time.Hour, nil)
		f.Gate = make(chan struct{})
		f.Entered = make(chan struct{}, 1)
		ctx, cancel := context.WithCancel(context.Background())
		result := make(chan error, 1)
		go func() {
			_, err := c.Token(ctx)
			result <- err
		}()
		<-f.Entered
		cancel()
		assert.ErrorIs(t, <-result, context.Canceled)

		// The shared refresh went on and serves the next caller.
		close(f.Gate)
		tok, err := c.Token(bg)
		require.NoError(t, err)
		assert.Equal(t, "token-1", tok.AccessToken)
		assert.EqualValues(t, 1, f.Calls.Load())
	})
}

// TestCloseStopsRefresh: Close ends a refresh that callers wait for with
// Config.Closed's error, or, without one, an error matching ErrClosed and
// the refresh's last error on one line.
func TestCloseStopsRefresh(t *testing.T) {
	closedSentinel := errors.New("closed by the owner")
	for name, closed := range map[string]func(error) error{
		"default": nil,
		"Closed":  func(last error) error { return errors.Join(closedSentinel, last) },
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &cachetest.Fetch{Lifetime: time.Hour, Gate: make(chan struct{}), Entered: make(chan struct{}, 1)}
				c := New(bg, f.Fetch, Config{Closed: closed}) // gate never released: only Close ends the request
				result := make(chan error, 1)
				go func() {
					_, err := c.Token(bg)
					result <- err
				}()
				<-f.Entered
				require.Equal(t, 1, cachetest.RefreshGoroutines())
				c.Close()
				err := <-result
				assert.ErrorIs(t, err, context.Canceled)
				if closed == nil {
					assert.ErrorIs(t, err, ErrClosed)
					assert.Equal(t, "serviceuser: token cache closed (last error: context canceled)", err.Error(), "one line")
				} else {
					assert.ErrorIs(t, err, closedSentinel)
				}
				cachetest.RequireNoRefreshGoroutines(t)

				_, err = c.Token(bg)
				if closed == nil {
					assert.Equal(t, ErrClosed, err)
				} else {
					assert.ErrorIs(t, err, closedSentinel)
				}
				assert.EqualValues(t, 1, f.Calls.Load(), "no request after Close")
				c.Close() // idempotent
			})
		})
	}
}

// TestOutlivesItsContext: the ctx a cache is made with only supplies values;
// cancelling it must not stop refreshes. Close does.
func TestOutlivesItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &cachetest.Fetch{Lifetime: time.Hour}
		ctx, cancel := context.WithCancel(context.Background())
		c := newTestCache(ctx, f.Fetch, nil)
		cancel()
		tok, err := c.Token(bg)
		require.NoError(t, err)
		assert.Equal(t, "token-1", tok.AccessToken)
		time.Sleep(2 * time.Hour) // expired: the next call must refresh
		tok, err = c.Token(bg)
		require.NoError(t, err, "a cancelled ctx must not stop refreshes")
		assert.Equal(t, "token-2", tok.AccessToken)

		c.Close()
		time.Sleep(2 * time.Hour)
		_, err = c.Token(bg)
		assert.ErrorIs(t, err, ErrClosed, "Close ends the cache")
		assert.EqualValues(t, 2, f.Calls.Load())
	})
}

func TestInvalidateKeepsNewerToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, f := newScripted(t, time.Hour, nil)
		first, err := c.Token(bg)
		require.NoError(t, err)
		time.Sleep(MinInvalidateAge)
		c.Invalidate(first)
		assert.False(t, c.Valid(), "dropped")
		second, err := c.Token(bg)
		require.NoError(t, err)
		assert.Equal(t, "token-2", second.AccessToken)

		c.Invalidate(first) // stale report: the newer token stays
		third, err := c.Token(bg)
		require.NoError(t, err)
		assert.Same(t, second, third)
		assert.EqualValues(t, 2, f.Calls.Load())
	})
}

func TestInvalidateSparesFreshToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, f := newScripted(t, time.Hour, nil)
		for range 5 { // an API that refuses every token
			tok, err := c.Token(bg)
			require.NoError(t, err)
			c.Invalidate(tok)
			time.Sleep(time.Second)
		}
		assert.EqualValues(t, 1, f.Calls.Load(), "a fresh token is not dropped")
		time.Sleep(MinInvalidateAge)
		tok, err := c.Token(bg)
		require.NoError(t, err)
		c.Invalidate(tok)
		_, err = c.Token(bg)
		require.NoError(t, err)
		assert.EqualValues(t, 2, f.Calls.Load())
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
		c := newTestCache(bg, fetch, nil)
		var wg sync.WaitGroup
		wg.Go(func() { c.Token(bg) })
		wg.Go(func() {
			c.Close()
			closed.Store(true)
		})
		wg.Wait()
		c.Close() // waits for a refresh that started late, if any
	}
	assert.Zero(t, late.Load(), "fetches started after Close returned")
}

// TestStaleReaderAfterRefreshStartsNone: a caller that saw the stale token
// just before a refresh ended must not start another refresh. Such a caller
// has loaded the snapshot and not yet called refreshAhead; the test plays its
// part by calling refreshAhead with the snapshot it read, once the refresh
// has ended.
func TestStaleReaderAfterRefreshStartsNone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, f := newScripted(t, time.Hour, nil)
		_, err := c.Token(bg)
		require.NoError(t, err)
		time.Sleep(staleWindow(time.Hour))

		stale := c.snap.Load() // the late caller reads the stale token
		_, err = c.Token(bg)   // another caller starts the refresh ahead...
		require.NoError(t, err)
		synctest.Wait() // ...which ends and caches a fresh token
		require.NotSame(t, stale, c.snap.Load())
		c.refreshAhead(stale) // the late caller decides on what it read
		synctest.Wait()
		assert.EqualValues(t, 2, f.Calls.Load(), "token requests")
	})
}
