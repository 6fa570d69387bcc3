package serviceuser

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/hint"
)

// Retry schedule for failed token requests. Each pause is drawn from the
// upper half of a ceiling that doubles with every consecutive failure
// (jitter that spreads a fleet without ever retrying early), so whatever
// the number of callers the request rate stays bounded.
//
// The ceiling depends on urgency. While a valid token is still served, the
// source is patient (backoffBase doubling to backoffMax). While callers wait
// without one, it probes at most every urgentMax: after an outage, the first
// token comes a few seconds after the endpoint's return, at a cost of about
// one request per 7.5 s. Errors that heal in moments (no answer, 5xx, a
// credential not yet projected) are first retried quickly, from quickBase
// doubling, within the waiting callers' wait: ZITADEL refuses a key, secret
// or user made a moment ago for tens of milliseconds, longer under load. How
// many quick retries depends on how sure it is that the error heals: a
// secret ZITADEL says does not exist yet, or a user it does not find, gets
// notProjectedQuickRetries (about 3 s);
// a source that never had a token, freshQuickRetries (about 0.75 s: its 500
// may as well be a wrong key or clock, which must surface soon); a source
// that had one, recoveringQuickRetries (a blip); then it probes.
//
// Errors that need a change back off from permanentBase to backoffMax. A
// server's Retry-After is honoured up to the ceiling, so that one long value
// (a proxy's maintenance page says an hour) cannot keep callers without a
// token long after the endpoint has recovered; jitter is added on top, so
// that a fleet told "Retry-After: 1" does not come back in the same second.
// A 429 keeps the patient ceiling even while callers wait: an overloaded
// endpoint recovers no sooner for being asked more often.
const (
	backoffBase   = time.Second
	backoffMax    = time.Minute
	urgentMax     = 10 * time.Second
	permanentBase = 2 * time.Second
	quickBase     = 50 * time.Millisecond

	notProjectedQuickRetries = 6
	freshQuickRetries        = 4
	recoveringQuickRetries   = 2
)

// errorClass is how the retry schedule treats an error.
type errorClass int

const (
	classTransient   errorClass = iota // may heal; backs off from backoffBase
	classQuick                         // usually heals in moments
	classRateLimited                   // the server says when to come back, or that it is overloaded
	classPermanent                     // needs a change of configuration, key or server setup
)

// notProjected reports a token endpoint's answer that says a credential
// made a moment ago is not visible yet: it usually heals in milliseconds.
func notProjected(te *TokenError) bool {
	return hint.NotProjected(te.endpointName(), te.Description)
}

// classify sorts err for the retry schedule.
func classify(err error) errorClass {
	if isPermanent(err) {
		return classPermanent
	}
	var te *TokenError
	if !errors.As(err, &te) {
		return classTransient
	}
	switch {
	case te.StatusCode == http.StatusTooManyRequests || te.RetryAfter > 0:
		return classRateLimited
	case te.StatusCode == 0 || te.StatusCode >= 500 || notProjected(te):
		return classQuick
	}
	return classTransient
}

// retryPlan is the pause after a failed request and whether a refresh that
// callers wait for may make it within their wait.
type retryPlan struct {
	delay time.Duration
	quick bool
}

// retryDelay plans the pause after the failures-th consecutive failed
// request. urgent: callers wait without a valid token. fresh: the source
// never had a token (its credential may be too new to be accepted yet).
func retryDelay(failures int, err error, urgent, fresh bool) retryPlan {
	ceiling := backoffMax
	if urgent {
		ceiling = urgentMax
	}
	switch class := classify(err); class {
	case classPermanent:
		return retryPlan{delay: jitter(doubled(permanentBase, failures, backoffMax))}
	case classRateLimited:
		return rateLimitedDelay(failures, err, ceiling)
	case classQuick:
		if urgent && failures <= quickRetries(err, fresh) {
			return retryPlan{delay: jitter(doubled(quickBase, failures, ceiling)), quick: true}
		}
		if urgent {
			return retryPlan{delay: jitter(ceiling)}
		}
	}
	return retryPlan{delay: jitter(doubled(backoffBase, failures, ceiling))}
}

// quickRetries is how many quick retries an error that usually heals in
// moments gets; fresh: the source never had a token.
func quickRetries(err error, fresh bool) int {
	var te *TokenError
	switch {
	case errors.As(err, &te) && notProjected(te):
		return notProjectedQuickRetries
	case fresh:
		return freshQuickRetries
	}
	return recoveringQuickRetries
}

// rateLimitedDelay honours the server's Retry-After up to ceiling and adds
// jitter that grows with failures. A 429 keeps the patient ceiling.
func rateLimitedDelay(failures int, err error, ceiling time.Duration) retryPlan {
	var te *TokenError
	errors.As(err, &te)
	if te.StatusCode == http.StatusTooManyRequests {
		ceiling = backoffMax
	}
	spread := doubled(backoffBase, failures, ceiling)
	if te.RetryAfter <= 0 {
		return retryPlan{delay: jitter(spread), quick: true}
	}
	return retryPlan{delay: min(te.RetryAfter, ceiling) + rand.N(spread+1), quick: true}
}

// doubled is base doubled for each failure after the first, at most ceiling.
func doubled(base time.Duration, failures int, ceiling time.Duration) time.Duration {
	if failures < 1 {
		failures = 1
	}
	if failures > 20 {
		return ceiling
	}
	return min(ceiling, base<<(failures-1))
}

// jitter draws a pause from the upper half of ceiling.
func jitter(ceiling time.Duration) time.Duration {
	return ceiling/2 + rand.N(ceiling/2+1)
}

// isPermanent reports errors that retrying soon cannot fix.
func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	if errors.As(err, &p) {
		return p.Permanent()
	}
	return errors.Is(err, ErrKeyExpired) || errors.Is(err, ErrInvalidKeyFile)
}
