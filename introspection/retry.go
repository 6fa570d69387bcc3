package introspection

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/go-serviceuser/serviceuser"
)

// The retry policy of an introspection lookup (one single flight). A
// request that got no answer (no connection, a reset, a cut or unreadable
// body, a 5xx, an HTML page instead of JSON, a 429) is sent again after a
// short pause, while a caller still waits for it and the pause ends before
// the latest waiting caller's deadline: at most maxAttempts requests per
// lookup. Pauses are drawn from the upper half of firstPause doubling per
// failed request, at most maxPause (25–50, 50–100, 100–200, 200–400,
// 200–400 ms: at most 1.35 s in all); a
// Retry-After is honoured when it is at most maxRetryAfter and fits, and
// otherwise the callers get the error at once. An answer (active or not,
// or a 4xx other than 429) is never retried.
//
// A breaker keeps a ZITADEL that is down from being asked more: a retry is
// sent only while fewer than breakerFailures requests in a row have failed,
// counting the retries in flight as failed. From the first failed request
// on, until a request is answered, retries therefore number at most
// breakerFailures in all, whatever the number of lookups: during an outage
// each lookup costs one request, plus breakerFailures once.
const (
	maxAttempts     = 6
	breakerFailures = 8
	firstPause      = 50 * time.Millisecond
	maxPause        = 400 * time.Millisecond
	maxRetryAfter   = 15 * time.Second
	// limitedPause is the pause after a 429 without Retry-After: an
	// overloaded server recovers no sooner for being asked at once.
	limitedPause = time.Second
)

// verdict is what a request's outcome says of the endpoint.
type verdict int

const (
	answered verdict = iota // the endpoint answered: it is up
	failed                  // no usable answer: worth another request
	unsent                  // no request was made (discovery, configuration)
)

// judge sorts the outcome of one request; for a failure it also returns
// the server's Retry-After and whether it answered 429.
func judge(err error) (v verdict, retryAfter time.Duration, limited bool) {
	if err == nil {
		return answered, 0, false
	}
	var te *serviceuser.TokenError
	if !errors.As(err, &te) || te.Endpoint != serviceuser.EndpointIntrospection {
		return unsent, 0, false
	}
	switch s := te.StatusCode; {
	case s == http.StatusTooManyRequests:
		return failed, te.RetryAfter, true
	case s == 0 || s == http.StatusOK || s >= 500:
		return failed, te.RetryAfter, false
	}
	return answered, 0, false
}

// pauseAfter is the pause after the attempt-th request of a lookup failed;
// ok is false when the server asks for a longer one than maxRetryAfter.
func pauseAfter(attempt int, retryAfter time.Duration, limited bool) (pause time.Duration, ok bool) {
	switch {
	case retryAfter > maxRetryAfter:
		return 0, false
	case retryAfter > 0:
		// Jitter, so that the lookups told the same do not return at once.
		return retryAfter + rand.N(retryAfter/8+firstPause), true
	case limited:
		return limitedPause/2 + rand.N(limitedPause/2+1), true
	}
	d := min(firstPause<<min(attempt-1, 16), maxPause)
	return d/2 + rand.N(d/2+1), true
}

// breaker counts the failed introspection requests in a row, shared by the
// introspectors of one Config.
type breaker struct {
	mu       sync.Mutex
	failures int // requests in a row without an answer
	retrying int // retries sent and not yet judged
}

// allowRetry reserves a retry, unless breakerFailures requests in a row
// have failed or may yet fail.
func (b *breaker) allowRetry() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openLocked() {
		return false
	}
	b.retrying++
	return true
}

// open reports whether a retry would be refused now.
func (b *breaker) open() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.openLocked()
}

// openLocked is open with b.mu held: the retries in flight count as failed.
func (b *breaker) openLocked() bool { return b.failures+b.retrying >= breakerFailures }

// record notes the verdict on a request; retry: allowRetry reserved it.
func (b *breaker) record(v verdict, retry bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if retry {
		b.retrying--
	}
	switch v {
	case answered:
		b.failures = 0
	case failed:
		b.failures++
	}
}
