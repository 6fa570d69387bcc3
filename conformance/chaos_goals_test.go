package conformance

// What the callers of a chaos run see, checked as it happens, and the goals
// every run must meet.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-serviceuser/serviceuser"
)

// The goals of a chaos run.
const (
	// chaosMaxErrorRate bounds the callers' errors outside the outage (from
	// its start to the first token after it) as a share of all calls.
	chaosMaxErrorRate = 0.001
	// chaosMaxRecovery bounds the time from the outage's end to the first
	// token.
	chaosMaxRecovery = 10 * time.Second
	// chaosHeapGrowth bounds the live heap's growth from the first minute
	// to the end of the hour.
	chaosHeapGrowth = 4 << 20
	// chaosMaxViolations bounds the broken promises a run keeps the text of.
	chaosMaxViolations = 10
)

// chaosRequestBound is the most token requests an hour of chaos may cost,
// per token lifetime: about 40 a minute for 1-minute tokens would be a
// source that retries far faster than its backoff allows.
func chaosRequestBound(lifetime time.Duration) int {
	if lifetime < 5*time.Minute {
		return 600
	}
	return 300
}

// chaosMargin is how long before its expiry the library stops serving a
// token of lifetime life by default (Config.ExpiryMargin).
func chaosMargin(life time.Duration) time.Duration { return min(10*time.Second, life/10) }

// chaosObserver checks every answer the callers get.
type chaosObserver struct {
	transport *chaosTransport
	trace     *chaosTrace
	lastError time.Time

	mu         sync.Mutex
	calls      int
	errorTimes []time.Time
	chaosViolations
	servedUntil time.Time // the latest time a token returned to a caller may be served
}

// caller calls ts every 1 to 3 s until stop.
func (o *chaosObserver) caller(ts *serviceuser.TokenSource, rng *rand.Rand, stop <-chan struct{}) {
	timer := time.NewTimer(time.Duration(rng.Int64N(int64(3 * chaosCallPause))))
	defer timer.Stop()
	for {
		select {
		case <-stop:
			return
		case <-timer.C:
		}
		o.call(ts)
		timer.Reset(chaosCallPause + time.Duration(rng.Int64N(int64(2*chaosCallPause))))
	}
}

// call asks for one token and checks the answer.
func (o *chaosObserver) call(ts *serviceuser.TokenSource) {
	ctx, cancel := context.WithTimeout(context.Background(), chaosCallTimeout)
	tok, err := ts.TokenContext(ctx)
	cancel()
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls++
	if err != nil {
		o.errorTimes = append(o.errorTimes, now)
		if now.Sub(o.lastError) > time.Second {
			o.trace.add("caller error: %v", err)
		}
		o.lastError = now
		if now.Before(o.servedUntil) {
			o.violate("at %v an error while a token returned earlier may be served until %v: %v", now, o.servedUntil, err)
		}
		return
	}
	info, ok := o.transport.issued(tok.AccessToken)
	switch {
	case !ok:
		o.violate("at %v a token the fake never issued", now)
	case !now.Before(info.expires):
		o.violate("at %v a token that expired at %v", now, info.expires)
	default:
		if until := info.expires.Add(-chaosMargin(info.life)); until.After(o.servedUntil) {
			o.servedUntil = until
		}
	}
}

// chaosViolations are the broken promises of a run: the first
// chaosMaxViolations in words, and how many in all. Its owner's lock guards it.
type chaosViolations struct {
	violations []string
	broken     int
}

// violate records a broken promise.
func (v *chaosViolations) violate(format string, args ...any) {
	v.broken++
	if len(v.violations) < chaosMaxViolations {
		v.violations = append(v.violations, fmt.Sprintf(format, args...))
	}
}

// all returns the promises recorded, and how many were broken in all when
// there were more.
func (v *chaosViolations) all() []string {
	if v.broken > len(v.violations) {
		return append(slices.Clip(v.violations), fmt.Sprintf("… %d in all", v.broken))
	}
	return v.violations
}

// results returns the counts once the callers are done.
func (o *chaosObserver) results() (calls int, errorTimes []time.Time, violations []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls, o.errorTimes, o.all()
}

// collect notes what the callers and the transport saw, once the callers
// are done.
func (r *chaosRun) collect(obs *chaosObserver, chaos *chaosTransport) {
	r.calls, r.errorTimes, r.violations = obs.results()
	r.noteRequests(chaos.tokenRequests())
	var first time.Time
	first, r.recovered = chaos.firstGotAfter(r.outage.to)
	r.firstToken = first.Sub(r.outage.to)
	if first, ok := chaos.firstGotAfter(r.start); ok {
		r.startToken = first.Sub(r.start)
	}
}

// outsideErrors counts the errors outside outages: after the source's
// first token, and outside the outage (from its start to the first token
// after it). A source that never had a token is in an outage of its own:
// its errors are startErrors.
func (r chaosRun) outsideErrors() int {
	n := 0
	for _, at := range r.errorTimes {
		if r.phase(at) == chaosRunning {
			n++
		}
	}
	return n
}

// startErrors counts the errors before the source's first token.
func (r chaosRun) startErrors() int {
	n := 0
	for _, at := range r.errorTimes {
		if r.phase(at) == chaosStarting {
			n++
		}
	}
	return n
}

type chaosPhase int

const (
	chaosStarting chaosPhase = iota // before the first token
	chaosRunning
	chaosDown // from the outage's start to the first token after it
)

// phase tells where in the run at lies.
func (r chaosRun) phase(at time.Time) chaosPhase {
	end := r.outage.to.Add(r.firstToken)
	if !r.recovered {
		end = r.start.Add(r.length)
	}
	switch {
	case at.Before(r.start.Add(r.startToken)):
		return chaosStarting
	case !at.Before(r.outage.from) && at.Before(end):
		return chaosDown
	}
	return chaosRunning
}

// errorRate is outsideErrors as a share of the calls.
func (r chaosRun) errorRate() float64 {
	if r.calls == 0 {
		return 1
	}
	return float64(r.outsideErrors()) / float64(r.calls)
}

// missed returns the goals the run missed, each with what was seen.
func (r chaosRun) missed() []string {
	var out []string
	out = append(out, r.violations...)
	if rate := r.errorRate(); rate > chaosMaxErrorRate {
		out = append(out, fmt.Sprintf("%d caller errors outside the outage in %d calls (%.3f %%, more than %.1f %%); bursts: %s (-chaostrace N shows what preceded them)",
			r.outsideErrors(), r.calls, 100*rate, 100*chaosMaxErrorRate, r.burstText(5)))
	}
	switch {
	case !r.recovered:
		out = append(out, "no token after the outage")
	case r.firstToken > chaosMaxRecovery:
		out = append(out, fmt.Sprintf("first token %v after the outage, later than %v; token requests from 30 s before its end: %s",
			r.firstToken, chaosMaxRecovery, strings.Join(r.aroundEnd, ", ")))
	}
	if bound := chaosRequestBound(r.cell.lifetime); r.requests > bound {
		out = append(out, fmt.Sprintf("%d token requests in the hour, more than %d", r.requests, bound))
	}
	if r.heapEnd > r.heapFirst+chaosHeapGrowth {
		out = append(out, fmt.Sprintf("live heap grew from %d to %d bytes", r.heapFirst, r.heapEnd))
	}
	// A caller calls at least every 3 s (plus its wait): fewer calls mean
	// callers stuck far longer than their deadline.
	if least := int(r.length/(3*chaosCallPause+chaosCallTimeout)) * chaosCallers; r.calls < least {
		out = append(out, fmt.Sprintf("%d calls, fewer than %d", r.calls, least))
	}
	return out
}
