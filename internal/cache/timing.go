package cache

import (
	"math/rand/v2"
	"time"

	"golang.org/x/oauth2"
)

// Default refresh timing. A token is refreshed in the background once it has
// less than RefreshAheadMin..refreshAheadMax of its lifetime left (jittered
// so that a fleet started together does not refresh in step), and at least
// MinRefreshAhead (at most a third of its service time) before it stops
// being served; it is no longer served ExpiryMargin (at most a tenth of its
// lifetime) before it expires.
const (
	RefreshAheadMin = 0.15
	refreshAheadMax = 0.25
	ExpiryMargin    = 10 * time.Second
	// coldRefreshAheadMax widens the spread for a token fetched while none
	// was served (a cache's first, or the first after an outage): its refresh
	// starts when 15 to 85 % of its lifetime is left, so that a fleet that got
	// its tokens together does not refresh in waves ever after.
	coldRefreshAheadMax = 0.85
	// MinRefreshAhead is the least lead of a default refresh, at most a
	// third of the token's service time: a short-lived token's refresh (a
	// 1-minute token's would start 9–15 s ahead, now 18 s) gets time for
	// several requests, one of which may hang. Tokens of 4 minutes and more
	// are refreshed as before.
	MinRefreshAhead = 30 * time.Second
)

// Timing is when tokens are refreshed and stop being served.
type Timing struct {
	// Ahead is how long before a token stops being served its refresh
	// starts; zero means a jittered share of its lifetime.
	Ahead time.Duration
	// Margin is how long before its expiry a token stops being served; zero
	// means ExpiryMargin, at most a tenth of its lifetime.
	Margin time.Duration
}

// snapshot is an immutable view of the cached token.
type snapshot struct {
	token     *oauth2.Token
	fetchedAt time.Time // when the token arrived
	refreshAt time.Time // from here on, refresh in the background
	expiresAt time.Time // from here on, the token is not served
}

// schedule returns the snapshot of tok, fetched at now: when its background
// refresh starts and when it stops being served. cold: the token was fetched
// while none was served. Set values are capped against the token's lifetime:
// the margin at half of it, the refresh lead at half of what is left after the
// margin, so that a short-lived token is still served and refreshed.
func (t Timing) schedule(tok *oauth2.Token, now time.Time, cold bool) *snapshot {
	lifetime := tok.Expiry.Sub(now)
	margin := min(ExpiryMargin, lifetime/10)
	if t.Margin > 0 {
		margin = min(t.Margin, lifetime/2)
	}
	expiresAt := tok.Expiry.Add(-max(0, margin))
	ahead := min(t.Ahead, expiresAt.Sub(now)/2)
	if t.Ahead == 0 {
		spread := refreshAheadMax
		if cold {
			spread = coldRefreshAheadMax
		}
		ahead = time.Duration(float64(lifetime) * (RefreshAheadMin + rand.Float64()*(spread-RefreshAheadMin)))
		ahead = max(ahead, min(MinRefreshAhead, expiresAt.Sub(now)/3))
	}
	return &snapshot{token: tok, fetchedAt: now, refreshAt: expiresAt.Add(-ahead), expiresAt: expiresAt}
}
