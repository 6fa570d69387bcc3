package serviceuser

import (
	"errors"
	"net/http"

	"github.com/go-serviceuser/serviceuser/internal/cache"
)

// How the retry schedule of a token source (see internal/cache) sees the
// library's errors.

// classify sorts err for the retry schedule: errors that need a change
// (Permanent), a server's request to come back later (a 429, or a
// Retry-After), errors that usually heal in moments (no answer, 5xx, a
// credential ZITADEL has not projected yet), and every other error.
func classify(err error) cache.Class {
	if isPermanent(err) {
		return cache.Class{Kind: cache.Permanent}
	}
	var te *TokenError
	if !errors.As(err, &te) {
		return cache.Class{Kind: cache.Transient}
	}
	switch {
	case te.StatusCode == http.StatusTooManyRequests || te.RetryAfter > 0:
		return cache.Class{Kind: cache.RateLimited, RetryAfter: te.RetryAfter, Overloaded: te.StatusCode == http.StatusTooManyRequests}
	case notProjected(te):
		return cache.Class{Kind: cache.Quick, Lagging: true}
	case te.StatusCode == 0 || te.StatusCode >= 500:
		return cache.Class{Kind: cache.Quick}
	}
	return cache.Class{Kind: cache.Transient}
}

// isPermanent reports errors that retrying soon cannot fix.
func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	if errors.As(err, &p) {
		return p.Permanent()
	}
	return errors.Is(err, ErrKeyExpired) || errors.Is(err, ErrInvalidKeyFile)
}
