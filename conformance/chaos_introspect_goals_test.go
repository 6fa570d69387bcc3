package conformance

// The introspector's goals under chaos: 503 only while no answer can be
// had, and no more requests during an outage than one per lookup and a
// few retries.

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
)

const (
	// introMaxUnavailable is the most 503s outside the outage, as a share
	// of the API requests whose token was not cached, when neither a 429
	// nor a request that hung for the whole timeout came before: at a
	// failure share of one half, a lookup makes up to 6 requests within the
	// caller's 15 s. A Retry-After that does not fit the caller's deadline
	// ends the lookup at once, and a request that hangs for the 10 s timeout
	// leaves 5 s of it; introMaxUnavailableAll bounds all 503s outside the
	// outage (half of the uncached lookups before retries).
	introMaxUnavailable    = 0.01
	introMaxUnavailableAll = 0.13
	// introBreaker is the introspector's bound on retries from the first
	// failed request until one is answered (see introspection.Introspector.Introspect).
	introBreaker = 8
	// introMaxAttempts is the introspector's bound on requests per lookup.
	introMaxAttempts = 6
)

// introProbe learns from Hooks.IntrospectionDone whether an API request's
// token was answered from the cache.
type introProbe struct{ seen, hit bool }

type introProbeKey struct{}

// introProbeHooks fill the introProbe in the context of each Introspect call.
func introProbeHooks() *hooks.Hooks {
	return &hooks.Hooks{IntrospectionDone: func(ctx context.Context, i hooks.IntrospectionDoneInfo) {
		if p, ok := ctx.Value(introProbeKey{}).(*introProbe); ok {
			p.seen, p.hit = true, i.CacheHit
		}
	}}
}

// introTally counts the API requests whose token was not cached.
type introTally struct {
	uncached    int // outside the outage: ended before it or started after it
	unavailable int // of those, answered 503
	afterLimit  int // of those, after the token's last introspection got a 429
	afterHang   int // of the others, after an introspection got no answer in time
	during      int // started during the outage
}

func (t introTally) String() string {
	return fmt.Sprintf("uncached outside the outage %d, of them 503 %d (%.3f %%; %d after a 429, %d after a hung request, %d others: %.3f %%), uncached during the outage %d",
		t.uncached, t.unavailable, 100*t.share(), t.afterLimit, t.afterHang, t.others(), 100*float64(t.others())/float64(max(t.uncached, 1)), t.during)
}

// others are the 503s outside the outage after neither a 429 nor a hung request.
func (t introTally) others() int { return t.unavailable - t.afterLimit - t.afterHang }

// share is the share of 503s outside the outage.
func (t introTally) share() float64 {
	if t.uncached == 0 {
		return 0
	}
	return float64(t.unavailable) / float64(t.uncached)
}

// count tallies one API request; call with w.mu held.
func (w *introWorld) count(tok string, status int, start, now time.Time, probe *introProbe) {
	if !probe.seen || probe.hit {
		return
	}
	if !start.Before(w.outage.from) && start.Before(w.outage.to) {
		w.tally.during++
	}
	if now.After(w.outage.from) && start.Before(w.outage.to) {
		return // not outside the outage
	}
	w.tally.uncached++
	if status == http.StatusServiceUnavailable {
		w.tally.unavailable++
		switch limited, hung := w.rec.causes(tok, start, now); {
		case limited:
			w.tally.afterLimit++
		case hung:
			w.tally.afterHang++
		}
	}
}

// causes tells why an API request with tok from start to now got 503:
// limited, the token's last introspection got a 429 (whose Retry-After did
// not fit, or came last); hung, an introspection of the token sent from
// a request timeout before start on got no answer within the timeout, and
// left too little of the caller's 15 s for the next ones.
func (r *introRecorder) causes(tok string, start, now time.Time) (limited, hung bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.asks {
		if a.token == tok && !a.at.After(now) {
			limited = a.limited
			hung = hung || a.hung && !a.at.Before(start.Add(-serviceuser.DefaultTimeout))
		}
	}
	return limited, hung
}

// goals checks the share of 503s outside the outage, and the requests
// during the outage (during of them): one per lookup started in it, plus
// the retries the breaker allows (introBreaker until an answer, which may
// come once more from a request sent before the outage).
func (w *introWorld) goals(t *testing.T, seed uint64, during int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if share := w.tally.share(); share > introMaxUnavailableAll {
		t.Errorf("seed %d: %.3f %% of the API requests outside the outage whose token was not cached got 503, more than %.1f %% (%v)",
			seed, 100*share, 100*introMaxUnavailableAll, w.tally)
	}
	if share := float64(w.tally.others()) / float64(max(w.tally.uncached, 1)); share > introMaxUnavailable {
		t.Errorf("seed %d: %.3f %% of the API requests outside the outage whose token was not cached got 503 after neither a 429 nor a hung request, more than %.1f %% (%v)",
			seed, 100*share, 100*introMaxUnavailable, w.tally)
	}
	if bound := w.tally.during + 2*introBreaker; during > bound {
		t.Errorf("seed %d: %d introspection requests during the outage, more than %d (one per lookup, %d retries)",
			seed, during, bound, 2*introBreaker)
	}
}
