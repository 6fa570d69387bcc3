package cache

import (
	"context"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/contain"
)

// A refresh is one flight: token requests, retried quickly while callers
// wait for it, whose outcome is published to them and to the cache.

// run performs one refresh, retrying quickly while callers wait for it, and
// publishes its outcome.
func (c *Cache) run(f *flight) {
	defer c.wg.Done()
	defer close(f.done)
	start := time.Now()
	for {
		waited, attempt := c.attempt(f)
		if c.cfg.OnStart != nil {
			c.cfg.OnStart(f.ctx, waited, attempt)
		}
		begin := time.Now()
		ctx, cancel, servedUntil := c.requestContext(f, begin)
		tok, err := c.fetchContained(ctx)
		cancel()
		o := Outcome{Waited: waited, Attempt: attempt}
		pause, again := c.settle(f, &o, tok, err, start, servedUntil)
		if c.cfg.OnDone != nil {
			o.Duration = time.Since(begin)
			c.cfg.OnDone(f.ctx, o)
		}
		if !again || !c.pause(f, pause) {
			return
		}
	}
}

// fetchContained calls fetch, turning a panic (in a user's RoundTripper, say)
// into a *contain.PanicError and a missing token into an error: either would
// otherwise end the process from this background goroutine, where no caller
// can recover it.
func (c *Cache) fetchContained(ctx context.Context) (*oauth2.Token, error) {
	tok, err := contain.Call("token request", func() (*oauth2.Token, error) { return c.fetch(ctx) })
	switch {
	case err != nil:
		return nil, err
	case tok == nil:
		return nil, errNoToken
	}
	return tok, nil
}

// attempt describes the token request f is about to make: whether callers
// wait for it, and how many requests have been made since the last success.
func (c *Cache) attempt(f *flight) (waited bool, attempt int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return f.waiters > 0, c.failures + 1
}

// settle records a request's outcome, and fills in o's Err, Expiry and
// NextAttempt under the same lock, so that o describes this request even if
// another starts as soon as this one ends the flight. It ends the flight, or
// returns the pause before a quick retry that the flight's waiting callers
// get. servedUntil is when the token served as the request began stops
// being served (zero: none was).
func (c *Cache) settle(f *flight, o *Outcome, tok *oauth2.Token, err error, start, servedUntil time.Time) (time.Duration, bool) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		prev := c.snap.Load()
		snap := c.cfg.Timing.schedule(tok, now, prev == nil || !now.Before(prev.expiresAt))
		if now.Before(snap.expiresAt) {
			c.snap.Store(snap)
			c.failures, c.patientAt, c.urgentAt, c.lastErr, c.lastKind, c.hadToken = 0, time.Time{}, time.Time{}, nil, Transient, true
			o.Expiry = snap.expiresAt
			c.endLocked(f, tok, nil)
			return 0, false
		}
		err = errExpiredOnArrival
	}
	if c.bg.Err() != nil {
		err = c.closedWith(err)
	}
	c.failures++
	c.lastErr = err
	class := c.classify(err)
	c.lastKind = class.Kind
	urgent := retryDelay(c.failures, class, true, !c.hadToken)
	c.urgentAt = now.Add(urgent.delay)
	c.patientAt = now.Add(retryDelay(c.failures, class, false, !c.hadToken).delay)
	if !servedUntil.IsZero() {
		// Callers start waiting once the token is dropped, at the latest
		// when this request ended: try once at once then. Until then,
		// pauses shrink with the token's time left (see aheadPause).
		if dropped := latest(servedUntil, now); dropped.Before(c.urgentAt) {
			c.urgentAt = dropped
		}
		c.patientAt = now.Add(aheadPause(c.patientAt.Sub(now), servedUntil.Sub(now)))
	}
	o.Err, o.NextAttempt = err, c.patientAt
	if o.Waited {
		o.NextAttempt = c.urgentAt
	}
	if urgent.quick && f.waiters > 0 && !c.closedLocked() && now.Sub(start)+urgent.delay <= c.cfg.WaitBudget {
		return urgent.delay, true
	}
	c.endLocked(f, nil, err)
	return 0, false
}

// classify sorts err with Config.Classify, if set.
func (c *Cache) classify(err error) Class {
	if c.cfg.Classify == nil {
		return Class{}
	}
	return c.cfg.Classify(err)
}

// pause sleeps d before a quick retry. It ends the flight with the last
// error, and reports false, when the cache is closed or no caller waits
// any more.
func (c *Cache) pause(f *flight, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-c.bg.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closedLocked():
		c.endLocked(f, nil, c.closedWith(c.lastErr))
	case f.waiters == 0:
		c.endLocked(f, nil, c.lastErr)
	default:
		return true
	}
	return false
}

// endLocked publishes the flight's outcome; run closes f.done after it.
func (c *Cache) endLocked(f *flight, tok *oauth2.Token, err error) {
	c.flight = nil
	f.token, f.err = tok, err
}

// refreshContext is the context of a refresh's token requests and
// callbacks. It ends when the cache is closed, never with a caller: others
// may share the refresh. Its values are Config.Self (under Config.Key),
// then those of the caller that started the refresh and waits for it, if
// any, then those of the context the cache was made with, so that a tracer
// parents the refresh on the caller's span.
type refreshContext struct {
	context.Context                 // Cache.bg: the cache's lifetime and its values
	waiter          context.Context // the caller's values only (context.WithoutCancel); nil for none
	key, self       any             // Config.Key and Config.Self
}

// newRefreshContext returns the context of a refresh that waiter starts and
// waits for.
func (c *Cache) newRefreshContext(waiter context.Context) context.Context {
	return &refreshContext{Context: c.bg, waiter: context.WithoutCancel(waiter), key: c.cfg.Key, self: c.cfg.Self}
}

// Value looks in Self, then in the waiting caller's values, then in the
// cache's. The caller's context is WithoutCancel's: it hides the caller's
// cancellation from contexts derived from this one, which end with the
// cache alone.
func (r *refreshContext) Value(key any) any {
	if r.key != nil && key == r.key {
		return r.self
	}
	if r.waiter != nil {
		if v := r.waiter.Value(key); v != nil {
			return v
		}
	}
	return r.Context.Value(key)
}
