package cache

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/internal/cache/cachetest"
)

// urgentExtra bounds the requests that the shortened pauses add to the
// patient schedule: from a minute left, each pause is a quarter of the time
// left until that is 4 s, then 1 s.
var urgentExtra = func() int32 {
	n := int32(0)
	for left := BackoffMax; left > 0; left -= max(urgencyFloor, left/urgencyShare) {
		n++
	}
	return n
}()

// newAhead is a cache of one-hour tokens refreshed ahead by ahead, whose
// requests' starts are recorded.
func newAhead(t *testing.T, ahead time.Duration, classify func(error) Class) (*Cache, *cachetest.Fetch, *[]time.Time, *[]Outcome) {
	f := &cachetest.Fetch{Lifetime: time.Hour}
	var starts []time.Time
	var outcomes []Outcome
	c := New(bg, f.Fetch, Config{Classify: classify, WaitBudget: testBudget, Timing: Timing{Ahead: ahead},
		OnStart: func(context.Context, bool, int) { starts = append(starts, time.Now()) },
		OnDone:  func(_ context.Context, o Outcome) { outcomes = append(outcomes, o) }})
	t.Cleanup(c.Close)
	return c, f, &starts, &outcomes
}

// serveUntil calls Token every 100 ms until the cached token's service
// ends, failing on any error, and returns the token got last.
func serveUntil(t *testing.T, c *Cache, end time.Time) string {
	last := ""
	for ; time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		tok, err := c.Token(bg)
		require.NoError(t, err, "a caller while a token is served")
		last = tok.AccessToken
		c.wg.Wait()
	}
	return last
}

// TestRetryAfterShortenedNearExpiry: a 429 with Retry-After 29 s, answered
// when the token has 10 s left, is retried after a quarter of that, and the
// new token comes before the old one is dropped.
func TestRetryAfterShortenedNearExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, f, _, outcomes := newAhead(t, 20*time.Second,
			classifyAs(Class{Kind: RateLimited, RetryAfter: 29 * time.Second, Overloaded: true}))
		_, err := c.Token(bg)
		require.NoError(t, err)
		expiresAt := c.snap.Load().expiresAt
		time.Sleep(time.Until(expiresAt) - 10*time.Second)
		f.FailWith(errors.New("429 Too Many Requests"))
		_, err = c.Token(bg)
		require.NoError(t, err)
		c.wg.Wait()
		require.Len(t, *outcomes, 2)
		assert.Equal(t, expiresAt.Add(-10*time.Second+10*time.Second/urgencyShare), (*outcomes)[1].NextAttempt)

		f.FailWith(nil)
		assert.Equal(t, "token-3", serveUntil(t, c, expiresAt), "refreshed before the token was dropped")
	})
}

// TestHungRequestCutHalfway: a request that hangs when the token has 8 s
// left ends 4 s later, not when the token is dropped or at the request
// timeout, so that another request fits; the first caller without a token
// tries again at once.
func TestHungRequestCutHalfway(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, f, starts, _ := newAhead(t, 20*time.Second, nil)
		_, err := c.Token(bg)
		require.NoError(t, err)
		expiresAt := c.snap.Load().expiresAt
		time.Sleep(time.Until(expiresAt) - 8*time.Second)
		gate := make(chan struct{})
		f.Gate = gate
		_, err = c.Token(bg)
		require.NoError(t, err)
		time.Sleep(4 * time.Second)
		synctest.Wait()
		assert.ErrorIs(t, c.LastError(), context.DeadlineExceeded, "the request ended halfway")
		assert.True(t, c.Valid(), "with 4 s left for another")
		cachetest.RequireNoRefreshGoroutines(t)

		time.Sleep(4 * time.Second)
		close(gate)
		tok, err := c.Token(bg)
		require.NoError(t, err, "the first caller without a token is not kept in backoff")
		assert.Equal(t, "token-3", tok.AccessToken)
		assert.Len(t, *starts, 3)
	})
}

// TestAttemptsKeepComingNearExpiry: with the backoff at its 60 s ceiling
// and 20 s left, requests keep coming before the token is dropped, a quarter
// of the time left apart, never less than a second.
func TestAttemptsKeepComingNearExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, f, starts, _ := newAhead(t, 10*time.Minute, nil)
		_, err := c.Token(bg)
		require.NoError(t, err)
		expiresAt := c.snap.Load().expiresAt
		f.FailWith(errors.New("endpoint down"))
		serveUntil(t, c, expiresAt)

		from := expiresAt.Add(-20 * time.Second)
		var last []time.Time
		for _, s := range *starts {
			if !s.Before(from) {
				last = append(last, s)
			}
		}
		t.Logf("requests in the last 20 s: %d (%d in all)", len(last), len(*starts))
		assert.GreaterOrEqual(t, len(last), 6)
		all := *starts
		for i := 2; i < len(all); i++ { // the first is the first token's
			gap, left := all[i].Sub(all[i-1]), expiresAt.Sub(all[i-1])
			ceiling := doubled(BackoffBase, i-1, BackoffMax) // of the patient schedule's jitter
			assert.GreaterOrEqual(t, gap, min(urgencyFloor, ceiling/2), "at %v left", left)
			step := 100 * time.Millisecond // how often a caller comes
			assert.LessOrEqual(t, gap, min(ceiling, max(urgencyFloor, left/urgencyShare))+step, "at %v left", left)
		}
	})
}
