package cache

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"golang.org/x/oauth2"
)

// requestTimeout stands for a config's Timeout: how long a request to an
// endpoint that never answers lasts unless its context ends first.
const requestTimeout = 10 * time.Second

// endpoint is a token endpoint for counting requests: it answers with a
// token, fails at once, or hangs for requestTimeout (or until the request's
// context ends), as state says.
type endpoint struct {
	lifetime time.Duration
	state    atomic.Int32 // endpointUp, endpointFailing or endpointHanging
	calls    atomic.Int32
}

const (
	endpointUp = iota
	endpointFailing
	endpointHanging
)

var errEndpoint = errors.New("500 Errors.Internal")

// fetch makes one request.
func (e *endpoint) fetch(ctx context.Context) (*oauth2.Token, error) {
	e.calls.Add(1)
	switch e.state.Load() {
	case endpointFailing:
		return nil, errEndpoint
	case endpointHanging:
		timer := time.NewTimer(requestTimeout)
		defer timer.Stop()
		select {
		case <-timer.C:
			return nil, fmt.Errorf("%w (timeout)", errEndpoint)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return &oauth2.Token{AccessToken: "at", Expiry: time.Now().Add(e.lifetime)}, nil
}

// requestsInAnHour counts the token requests of a cache whose endpoint is in
// state after the first token, with one caller a second for an hour.
func requestsInAnHour(t *testing.T, lifetime time.Duration, state int32) (requests int32) {
	synctest.Test(t, func(t *testing.T) {
		e := &endpoint{lifetime: lifetime}
		c := New(bg, e.fetch, Config{Classify: classifyAs(Class{Kind: Quick}), WaitBudget: requestTimeout})
		defer c.Close()
		_, err := c.Token(bg)
		assert.NoError(t, err)
		e.state.Store(state)
		for end := time.Now().Add(time.Hour); time.Now().Before(end); time.Sleep(time.Second) {
			ctx, cancel := context.WithTimeout(bg, requestTimeout)
			_, _ = c.Token(ctx)
			cancel()
		}
		requests = e.calls.Load()
	})
	return requests
}

// TestRequestsInAnHour: far from expiry the cache is as patient as it was
// before a refresh hurried near expiry. A healthy endpoint gets one request
// per token; a dead one, the urgent probing once the token has expired,
// plus at most urgentExtra more requests in the last minute of the token's
// service. The bounds hold for every draw of the jitter.
func TestRequestsInAnHour(t *testing.T) {
	for _, lifetime := range []time.Duration{5 * time.Minute, time.Minute} {
		t.Run(lifetime.String(), func(t *testing.T) {
			// Refreshed when 15–25 % of the lifetime is left, and at least
			// MinRefreshAhead (at most a third of the service time) before
			// the token stops being served: for 1-minute tokens, 18 s, one
			// token per 36 s (100 an hour instead of 85).
			healthy := requestsInAnHour(t, lifetime, endpointUp)
			served := lifetime - min(ExpiryMargin, lifetime/10)
			perToken := served - max(time.Duration(float64(lifetime)*refreshAheadMax), min(MinRefreshAhead, served/3))
			assert.LessOrEqual(t, healthy, int32(time.Hour/perToken)+2, "healthy")

			// Dead: after expiry, one request per 5–10 s (jitter(UrgentMax))
			// plus the quick retries; before, the patient schedule.
			probes := int32(time.Hour/(UrgentMax/2)) + 1 + RecoveringQuickRetries
			for _, state := range []int32{endpointFailing, endpointHanging} {
				dead := requestsInAnHour(t, lifetime, state)
				t.Logf("%v tokens: healthy %d, dead (state %d) %d requests in an hour", lifetime, healthy, state, dead)
				assert.LessOrEqual(t, dead, probes+urgentExtra, "dead endpoint")
			}
		})
	}
}
