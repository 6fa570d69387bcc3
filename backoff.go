package serviceuser

import (
	"errors"
	"math/rand/v2"
	"time"
)

// Retry schedule for failed refreshes: exponential from backoffBase, capped at
// backoffMax, with jitter that never goes below backoffBase, so whatever the
// number of callers at most one request per backoffBase reaches the server.
// Permanent errors wait permanentBackoff; a server's Retry-After is honoured.
const (
	backoffBase      = time.Second
	backoffMax       = time.Minute
	permanentBackoff = 5 * time.Minute
)

// retryDelay is the pause after the failures-th consecutive failure.
func retryDelay(failures int, err error) time.Duration {
	if isPermanent(err) {
		return permanentBackoff
	}
	ceiling := backoffMax
	if failures < 7 {
		ceiling = min(backoffMax, backoffBase<<(failures-1))
	}
	delay := backoffBase + rand.N(ceiling-backoffBase+1)
	var te *TokenError
	if errors.As(err, &te) && te.RetryAfter > delay {
		delay = te.RetryAfter
	}
	return delay
}

// isPermanent reports errors that retrying soon cannot fix.
func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	if errors.As(err, &p) {
		return p.Permanent()
	}
	return errors.Is(err, ErrKeyExpired) || errors.Is(err, ErrInvalidKeyFile)
}
