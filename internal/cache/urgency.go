package cache

import (
	"context"
	"time"
)

// Urgency of a refresh ahead of expiry. The patient schedule (see
// retryDelay) suits a token with long to live; as the time before it stops
// being served shrinks, each wait shrinks with it, so that several more
// requests fit before the token is gone:
//
//   - the pause after a failed request is at most urgencyShare's part of the
//     time the served token has left (a quarter), never less than
//     urgencyFloor (1 s), so that a dead endpoint is not asked more than once
//     a second: from a minute left, at most 14 requests instead of one or two.
//     This holds for a server's Retry-After too: a token that is about to be
//     dropped is worth more than the server's wish.
//   - a request ends once half the time the served token had left when it
//     began has passed (all of it, below 2 s), or at the request timeout the
//     fetch applies, whichever comes first: a hung request cannot take the
//     time the next request needs, and another one always fits.
//
// Once no valid token is left, callers wait and the urgent schedule applies
// as it did.
const (
	urgencyShare = 4
	urgencyFloor = time.Second
)

// aheadPause shortens d, the patient pause after a failed request, for a
// served token that has left before it stops being served.
func aheadPause(d, left time.Duration) time.Duration {
	return min(d, max(urgencyFloor, left/urgencyShare))
}

// requestContext returns the context of one of f's token requests, started
// at now, and when the token served then stops being served (zero: none is
// served). The context ends halfway there (at the end when under 2 s are
// left), so a request leaves time for another before the token it would
// replace is dropped; the fetch's own request timeout still holds, and the
// earlier of the two ends the request.
func (c *Cache) requestContext(f *flight, now time.Time) (context.Context, context.CancelFunc, time.Time) {
	s := c.snap.Load()
	if s == nil || !now.Before(s.expiresAt) {
		return f.ctx, func() {}, time.Time{}
	}
	left := s.expiresAt.Sub(now)
	ctx, cancel := context.WithDeadline(f.ctx, now.Add(max(left/2, min(left, urgencyFloor))))
	return ctx, cancel, s.expiresAt
}

// latest is the later of a and b.
func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
