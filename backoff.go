package serviceuser

import (
	"errors"
	"math/rand/v2"
	"time"
)

// Retry schedule for failed refreshes: the ceiling doubles from backoffBase up
// to backoffMax, and each pause is drawn from the upper half of the ceiling
// (jitter that spreads a fleet without ever retrying early), so whatever the
// number of callers the request rate stays bounded. Permanent errors wait
// permanentBackoff; a server's Retry-After is honoured up to backoffMax, so
// that one long value (a proxy's maintenance page says an hour) cannot keep
// callers without a token long after the endpoint has recovered.
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
	delay := ceiling/2 + rand.N(ceiling/2+1)
	var te *TokenError
	if errors.As(err, &te) && te.RetryAfter > delay {
		delay = min(te.RetryAfter, backoffMax)
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
