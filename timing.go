package serviceuser

import (
	"math/rand/v2"
	"time"

	"golang.org/x/oauth2"
)

// Default refresh timing. A token is refreshed in the background once it has
// less than refreshAheadMin..refreshAheadMax of its lifetime left (jittered so
// that a fleet started together does not refresh in step), and is no longer
// served expiryMargin (at most a tenth of its lifetime) before it expires.
const (
	refreshAheadMin = 0.15
	refreshAheadMax = 0.25
	expiryMargin    = 10 * time.Second
	// coldRefreshAheadMax widens the spread for a token fetched while none
	// was served (a source's first, or the first after an outage): its refresh
	// starts when 15 to 85 % of its lifetime is left, so that a fleet that got
	// its tokens together does not refresh in waves ever after.
	coldRefreshAheadMax = 0.85
)

// timing is a config's RefreshAhead and ExpiryMargin; zero means the default.
type timing struct{ ahead, margin time.Duration }

func (t timing) validate(s settings) error {
	switch {
	case t.ahead < 0:
		return s.configError("RefreshAhead", "negative")
	case t.margin < 0:
		return s.configError("ExpiryMargin", "negative")
	}
	return nil
}

// schedule returns the snapshot of tok, fetched at now: when its background
// refresh starts and when it stops being served. cold: the token was fetched
// while none was served. Set values are capped against the token's lifetime:
// the margin at half of it, the refresh lead at half of what is left after the
// margin, so that a short-lived token is still served and refreshed.
func (t timing) schedule(tok *oauth2.Token, now time.Time, cold bool) *snapshot {
	lifetime := tok.Expiry.Sub(now)
	margin := min(expiryMargin, lifetime/10)
	if t.margin > 0 {
		margin = min(t.margin, lifetime/2)
	}
	expiresAt := tok.Expiry.Add(-max(0, margin))
	ahead := min(t.ahead, expiresAt.Sub(now)/2)
	if t.ahead == 0 {
		spread := refreshAheadMax
		if cold {
			spread = coldRefreshAheadMax
		}
		ahead = time.Duration(float64(lifetime) * (refreshAheadMin + rand.Float64()*(spread-refreshAheadMin)))
	}
	return &snapshot{token: tok, fetchedAt: now, refreshAt: expiresAt.Add(-ahead), expiresAt: expiresAt}
}
