package serviceuser

import (
	"context"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/hooks"
)

// A refresh is one flight: token requests, retried quickly while callers
// wait for it, whose outcome is published to them and to the cache.

// run performs one refresh, retrying quickly while callers wait for it, and
// publishes its outcome.
func (ts *TokenSource) run(f *flight) {
	defer ts.wg.Done()
	defer close(f.done)
	start := time.Now()
	for {
		info := ts.attempt(f)
		ts.api.hooks.refreshStart(f.ctx, info)
		begin := time.Now()
		tok, err := ts.fetchRecovered(f.ctx)
		pause, again := ts.settle(f, tok, err, start)
		ts.api.hooks.refreshDone(f.ctx, ts.outcome(info, time.Since(begin), err))
		if !again || !ts.pause(f, pause) {
			return
		}
	}
}

// attempt describes the token request f is about to make.
func (ts *TokenSource) attempt(f *flight) hooks.RefreshStartInfo {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return hooks.RefreshStartInfo{Waited: f.waiters > 0, Attempt: ts.failures + 1}
}

// outcome describes a token request that settle has recorded.
func (ts *TokenSource) outcome(start hooks.RefreshStartInfo, d time.Duration, err error) hooks.RefreshDoneInfo {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	info := hooks.RefreshDoneInfo{Waited: start.Waited, Attempt: start.Attempt, Duration: d, Err: ts.lastErr}
	if err == nil && ts.lastErr == nil {
		if s := ts.snap.Load(); s != nil {
			info.Expiry = s.expiresAt
		}
		return info
	}
	info.NextAttempt = ts.patientAt
	if info.Waited {
		info.NextAttempt = ts.urgentAt
	}
	return info
}

// settle records a request's outcome. It ends the flight, or returns the
// pause before a quick retry that the flight's waiting callers get.
func (ts *TokenSource) settle(f *flight, tok *oauth2.Token, err error, start time.Time) (time.Duration, bool) {
	now := time.Now()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if err == nil {
		prev := ts.snap.Load()
		snap := ts.timing.schedule(tok, now, prev == nil || !now.Before(prev.expiresAt))
		if now.Before(snap.expiresAt) {
			ts.snap.Store(snap)
			ts.failures, ts.patientAt, ts.urgentAt, ts.lastErr, ts.hadToken = 0, time.Time{}, time.Time{}, nil, true
			ts.endLocked(f, tok, nil)
			return 0, false
		}
		err = errExpiredOnArrival
	}
	if ts.bg.Err() != nil {
		err = closedWith(err)
	}
	ts.failures++
	ts.lastErr = err
	urgent := retryDelay(ts.failures, err, true, !ts.hadToken)
	ts.urgentAt = now.Add(urgent.delay)
	if s := ts.snap.Load(); s != nil && now.Before(s.expiresAt) && s.expiresAt.Before(ts.urgentAt) {
		ts.urgentAt = s.expiresAt // callers start waiting then: try once at once
	}
	ts.patientAt = now.Add(retryDelay(ts.failures, err, false, !ts.hadToken).delay)
	if urgent.quick && f.waiters > 0 && !ts.closedLocked() && now.Sub(start)+urgent.delay <= ts.budget() {
		return urgent.delay, true
	}
	ts.endLocked(f, nil, err)
	return 0, false
}

// pause sleeps d before a quick retry. It ends the flight with the last
// error, and reports false, when the source is closed or no caller waits
// any more.
func (ts *TokenSource) pause(f *flight, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ts.bg.Done():
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	switch {
	case ts.closedLocked():
		ts.endLocked(f, nil, closedWith(ts.lastErr))
	case f.waiters == 0:
		ts.endLocked(f, nil, ts.lastErr)
	default:
		return true
	}
	return false
}

// endLocked publishes the flight's outcome; run closes f.done after it.
func (ts *TokenSource) endLocked(f *flight, tok *oauth2.Token, err error) {
	ts.flight = nil
	f.token, f.err = tok, err
}

// budget is how long a refresh keeps retrying within its callers' wait.
func (ts *TokenSource) budget() time.Duration {
	if ts.waitBudget > 0 {
		return ts.waitBudget
	}
	return DefaultTimeout
}

// refreshContext is the context of a refresh's token requests and hooks. It
// ends when the source is closed, never with a caller: others may share the
// refresh. Its values are those of the caller that started the refresh and
// waits for it, if any, then those of the context the source was made with,
// so that a tracer parents the refresh on the caller's span.
type refreshContext struct {
	context.Context                 // ts.bg: the source's lifetime and its values
	waiter          context.Context // the caller's values only (context.WithoutCancel); nil for none
	ts              *TokenSource    // SourceFromContext's answer
}

// newRefreshContext returns the context of a refresh that waiter, if not
// nil, starts and waits for.
func (ts *TokenSource) newRefreshContext(waiter context.Context) context.Context {
	c := &refreshContext{Context: ts.bg, ts: ts}
	if waiter != nil {
		c.waiter = context.WithoutCancel(waiter)
	}
	return c
}

// Value looks in the waiting caller's values, then in the source's. The
// caller's context is WithoutCancel's: it hides the caller's cancellation
// from contexts derived from this one, which end with the source alone.
func (c *refreshContext) Value(key any) any {
	if _, ok := key.(sourceKey); ok {
		return c.ts
	}
	if c.waiter != nil {
		if v := c.waiter.Value(key); v != nil {
			return v
		}
	}
	return c.Context.Value(key)
}
