package introspection

import (
	"context"
	"errors"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/contain"
)

// call is one lookup's requests (see retry.go), shared by everyone waiting
// for its outcome.
type call struct {
	done   chan struct{}
	result *Result
	err    error
	// waiting holds the callers that wait for the outcome, guarded by the
	// Introspector's mu; a caller that leaves pokes left, so that a
	// pausing lookup notices when no one waits any more.
	waiting map[*waiter]struct{}
	left    chan struct{}
	// cancel, when set, ends the retry in flight: the last caller to leave
	// calls it (guarded by mu as waiting is).
	cancel context.CancelFunc
}

// waiter is one caller waiting for a call: its ctx's deadline, if bounded.
type waiter struct {
	deadline time.Time
	bounded  bool
}

// run starts the requests for everyone waiting on c, on a goroutine of its
// own (see contain.Go), holding the request slot its starter took. The
// first request is bounded by the timeout alone: no caller's cancellation
// fails the others, none has to wait for the request once its own ctx
// ends, and its answer still fills the cache. A retry, made only for
// callers that wait, also ends when the last of them leaves, so that the
// callers' contexts bound the lookup. A panic or runtime.Goexit there,
// where no caller could recover it, becomes the callers' error.
func (in *Introspector) run(ctx context.Context, key [32]byte, c *call, token string) {
	contain.Go("introspection request", func() (*Result, error) {
		return in.attempts(ctx, c, token)
	}, func(r *Result, err error) {
		c.result, c.err = r, err
		in.finish(key, c)
	})
}

// attempts sends the request, and again after a failure while the retry
// policy (see retry.go) allows it; it frees the request slot it holds.
func (in *Introspector) attempts(ctx context.Context, c *call, token string) (*Result, error) {
	held := true
	defer func() {
		if held {
			<-in.slots
		}
	}()
	var last error
	for attempt, retry := 1, false; ; attempt, retry = attempt+1, true {
		r, err, dropped := in.attempt(ctx, c, token, retry)
		if dropped { // ended for want of callers, not by the endpoint
			in.health.record(unsent, retry)
			return nil, last
		}
		last = err
		v, retryAfter, limited := judge(err)
		in.health.record(v, retry)
		if v != failed || attempt >= maxAttempts || in.health.open() {
			return r, err
		}
		pause, ok := pauseAfter(attempt, retryAfter, limited)
		if !ok || !in.fits(c, pause) {
			return r, err
		}
		<-in.slots // not held while pausing
		held = false
		if !in.pause(c, pause) || !in.reacquire(c) {
			return r, err
		}
		held = true
		if !in.health.allowRetry() {
			return r, err
		}
	}
}

// attempt is one request, bounded by the timeout, and for a retry by the
// callers' wait: dropped reports a retry ended because no one waits.
func (in *Introspector) attempt(ctx context.Context, c *call, token string, retry bool) (r *Result, err error, dropped bool) {
	ctx, cancel := context.WithTimeout(ctx, in.call.Timeout)
	defer cancel()
	if retry {
		in.mu.Lock()
		if len(c.waiting) == 0 {
			in.mu.Unlock()
			return nil, nil, true
		}
		c.cancel = cancel
		in.mu.Unlock()
		defer func() {
			in.mu.Lock()
			c.cancel = nil
			in.mu.Unlock()
		}()
	}
	r, err = in.request(ctx, token)
	return r, err, errors.Is(ctx.Err(), context.Canceled)
}

// fits reports whether a caller waiting for c may still wait once a pause
// of d is over.
func (in *Introspector) fits(c *call, d time.Duration) bool {
	end := time.Now().Add(d)
	in.mu.Lock()
	defer in.mu.Unlock()
	for w := range c.waiting {
		if !w.bounded || end.Before(w.deadline) {
			return true
		}
	}
	return false
}

// awaited reports whether a caller still waits for c.
func (in *Introspector) awaited(c *call) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(c.waiting) > 0
}

// leave stops w's wait for c.
func (in *Introspector) leave(c *call, w *waiter) {
	in.mu.Lock()
	delete(c.waiting, w)
	if len(c.waiting) == 0 && c.cancel != nil {
		c.cancel()
	}
	in.mu.Unlock()
	select {
	case c.left <- struct{}{}:
	default: // already poked
	}
}

// pause waits d, and reports whether a caller still waits for c then; it
// ends early when the last one leaves.
func (in *Introspector) pause(c *call, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return in.awaited(c)
		case <-c.left:
			if !in.awaited(c) {
				return false
			}
		}
	}
}

// reacquire takes a request slot for c's next request, unless no caller
// waits any more.
func (in *Introspector) reacquire(c *call) bool {
	for {
		select {
		case in.slots <- struct{}{}:
			return true
		case <-c.left:
			if !in.awaited(c) {
				return false
			}
		}
	}
}

// finish publishes c's outcome to its callers and the cache.
func (in *Introspector) finish(key [32]byte, c *call) {
	in.mu.Lock()
	delete(in.inFlight, key)
	in.store(key, c.result)
	in.mu.Unlock()
	close(c.done)
}
