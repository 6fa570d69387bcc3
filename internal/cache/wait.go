package cache

import (
	"context"
	"time"

	"golang.org/x/oauth2"
)

// Callers without a valid token. They share the refresh in flight, or start
// one; inside a backoff window no request is made for them. A caller whose
// context has a deadline, of a cache that has had a token, does not take a
// failed request's error while the next request is due within both its
// deadline and UrgentMax: it waits for that request, shared with every other
// caller, and so on until its deadline leaves no room. A source that served
// tokens before is failing for a moment, and its callers asked to wait that
// long. Callers without a deadline, of a cache that never had a token (its
// error may be a wrong credential, which must surface), and after a
// Permanent error get the error at once. No request is added: the next one
// starts when the backoff allows, as it would for a caller arriving then.

// wait returns a token once a shared refresh ends with one, or an error (see
// above).
func (c *Cache) wait(ctx context.Context) (*oauth2.Token, error) {
	for {
		c.mu.Lock()
		now := time.Now()
		if s := c.snap.Load(); s != nil && now.Before(s.expiresAt) {
			c.mu.Unlock() // refreshed while this caller took the lock
			return s.token, nil
		}
		f := c.startLocked(now, ctx)
		if f == nil {
			err, closed := c.lastErr, c.closedLocked()
			next, ok := c.nextAttemptLocked(ctx, now)
			var wake chan struct{}
			if ok {
				if c.wake == nil {
					c.wake = make(chan struct{})
				}
				wake = c.wake
			}
			c.mu.Unlock()
			switch {
			case closed:
				return nil, c.closedWith(nil)
			case !ok:
				return nil, err
			}
			if err := c.sleep(ctx, wake, next); err != nil {
				return nil, err
			}
			continue
		}
		f.waiters++
		c.mu.Unlock()
		select {
		case <-f.done:
			if f.err == nil || !c.waitsAgain(ctx) {
				return f.token, f.err
			}
		case <-ctx.Done():
			c.mu.Lock()
			f.waiters-- // with none left, the refresh stops retrying quickly
			c.mu.Unlock()
			return nil, ctx.Err()
		}
	}
}

// nextAttemptLocked returns when the next request may start for a caller
// waiting with ctx, and whether the caller waits for it rather than take
// the last error.
func (c *Cache) nextAttemptLocked(ctx context.Context, now time.Time) (time.Time, bool) {
	deadline, ok := ctx.Deadline()
	if !ok || !c.hadToken || c.lastKind == Permanent || c.closedLocked() {
		return time.Time{}, false
	}
	next := c.urgentAt
	return next, !next.After(deadline) && next.Sub(now) <= UrgentMax
}

// waitsAgain reports whether a caller whose refresh failed looks again: a
// token may have come since (a new credential's request may start and end
// before this caller wakes), or it waits for the next request.
func (c *Cache) waitsAgain(ctx context.Context) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if s := c.snap.Load(); s != nil && now.Before(s.expiresAt) {
		return true
	}
	_, ok := c.nextAttemptLocked(ctx, now)
	return ok
}

// sleep waits until at, or until a refresh starts (wake) or the cache is
// closed; it returns ctx's error if ctx ends first.
func (c *Cache) sleep(ctx context.Context, wake <-chan struct{}, at time.Time) error {
	timer := time.NewTimer(time.Until(at))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-wake:
	case <-c.bg.Done():
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}
