package cache

import (
	"math/rand/v2"
	"time"
)

// Retry schedule for failed token requests. Each pause is drawn from the
// upper half of a ceiling that doubles with every consecutive failure
// (jitter that spreads a fleet without ever retrying early), so whatever
// the number of callers the request rate stays bounded.
//
// The ceiling depends on urgency. While a valid token is still served, the
// cache is patient (BackoffBase doubling to BackoffMax), less so as that
// token's end nears (see aheadPause). While callers wait
// without one, it probes at most every UrgentMax: after an outage, the first
// token comes a few seconds after the endpoint's return, at a cost of about
// one request per 7.5 s. Errors that heal in moments (Quick: no answer, 5xx,
// a credential not yet visible) are first retried quickly, from quickBase
// doubling, within the waiting callers' wait: ZITADEL refuses a key, secret
// or user made a moment ago for tens of milliseconds, longer under load. How
// many quick retries depends on how sure it is that the error heals: a
// Lagging error (the server says the credential does not exist yet) gets
// laggingQuickRetries (about 3 s); a cache that never had a token,
// FreshQuickRetries (about 0.75 s: its 500 may as well be a wrong key or
// clock, which must surface soon); a cache that had one,
// RecoveringQuickRetries (a blip); then it probes.
//
// Permanent errors back off from permanentBase to BackoffMax. A server's
// Retry-After is honoured up to the ceiling, so that one long value (a
// proxy's maintenance page says an hour) cannot keep callers without a
// token long after the endpoint has recovered; jitter is added on top (at
// most a quarter of the wait, at least a second), so that a fleet told
// "Retry-After: 1" does not come back in the same second.
// An Overloaded answer (429) keeps the patient ceiling even while callers
// wait: an overloaded endpoint recovers no sooner for being asked more often.
const (
	BackoffBase   = time.Second
	BackoffMax    = time.Minute
	UrgentMax     = 10 * time.Second
	permanentBase = 2 * time.Second
	quickBase     = 50 * time.Millisecond

	laggingQuickRetries    = 6
	FreshQuickRetries      = 4
	RecoveringQuickRetries = 2
)

// Kind is how the retry schedule treats an error.
type Kind int

const (
	Transient   Kind = iota // may heal; backs off from BackoffBase
	Quick                   // usually heals in moments
	RateLimited             // the server says when to come back, or that it is overloaded
	Permanent               // needs a change of configuration, key or server setup
)

// Class is what the retry schedule needs to know of a failed request's
// error: its Kind, and for some kinds a detail.
type Class struct {
	Kind Kind
	// Lagging, for Quick: the server does not show a credential made a
	// moment ago yet. It heals surely, so it gets more quick retries.
	Lagging bool
	// RetryAfter, for RateLimited: the server's Retry-After, or 0.
	RetryAfter time.Duration
	// Overloaded, for RateLimited: the server says it is overloaded (HTTP
	// 429), so the patient ceiling applies even while callers wait.
	Overloaded bool
}

// retryPlan is the pause after a failed request and whether a refresh that
// callers wait for may make it within their wait.
type retryPlan struct {
	delay time.Duration
	quick bool
}

// retryDelay plans the pause after the failures-th consecutive failed
// request, whose error is of class c. urgent: callers wait without a valid
// token. fresh: the cache never had a token (its credential may be too new
// to be accepted yet).
func retryDelay(failures int, c Class, urgent, fresh bool) retryPlan {
	ceiling := BackoffMax
	if urgent {
		ceiling = UrgentMax
	}
	switch c.Kind {
	case Permanent:
		return retryPlan{delay: jitter(doubled(permanentBase, failures, BackoffMax))}
	case RateLimited:
		return rateLimitedDelay(failures, c, ceiling)
	case Quick:
		if urgent && failures <= quickRetries(c, fresh) {
			return retryPlan{delay: jitter(doubled(quickBase, failures, ceiling)), quick: true}
		}
		if urgent {
			return retryPlan{delay: jitter(ceiling)}
		}
	}
	return retryPlan{delay: jitter(doubled(BackoffBase, failures, ceiling))}
}

// quickRetries is how many quick retries a Quick error gets; fresh: the
// cache never had a token.
func quickRetries(c Class, fresh bool) int {
	switch {
	case c.Lagging:
		return laggingQuickRetries
	case fresh:
		return FreshQuickRetries
	}
	return RecoveringQuickRetries
}

// rateLimitedDelay honours the server's Retry-After up to ceiling and adds
// jitter that grows with failures, but never beyond a quarter of the wait
// the server asked for (at least BackoffBase): the failures of a long outage
// must not turn "come back in 14 s" into a minute. An overloaded server
// keeps the patient ceiling.
func rateLimitedDelay(failures int, c Class, ceiling time.Duration) retryPlan {
	if c.Overloaded {
		ceiling = BackoffMax
	}
	spread := doubled(BackoffBase, failures, ceiling)
	if c.RetryAfter <= 0 {
		return retryPlan{delay: jitter(spread), quick: true}
	}
	after := min(c.RetryAfter, ceiling)
	spread = min(spread, max(BackoffBase, after/4))
	return retryPlan{delay: after + rand.N(spread+1), quick: true}
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
