package conformance

// A chaos run's trace, for a run that missed its error goal: what the
// source did (each token request's outcome, from its hooks) and what the
// scenario did (rotations, deleted keys, clock moves), so that a burst of
// caller errors can be read against what preceded it.

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-serviceuser/serviceuser/hooks"
)

var chaosTraceBursts = flag.Int("chaostrace", 0, "log the trace before this many error bursts of each TestChaosSoak run with errors outside the outage or a missed goal")

// chaosTrace records what happened in a run, on the true clock.
type chaosTrace struct {
	start time.Time
	// rejections returns why the fake rejected each token request, in order.
	rejections func() []error
	mu         sync.Mutex
	events     []chaosEvent
}

type chaosEvent struct {
	at   time.Time
	text string
}

// answered records a token request the fake answered with status.
func (tr *chaosTrace) answered(status int) {
	if tr == nil || status == 200 {
		return
	}
	why := "?"
	if r := tr.rejections(); len(r) > 0 {
		why = r[len(r)-1].Error()
	}
	tr.add("the fake answered %d: %s", status, why)
}

// rel is t in seconds from the run's start.
func (tr *chaosTrace) rel(t time.Time) string {
	return fmt.Sprintf("%8.1fs", t.Sub(tr.start).Seconds())
}

func (tr *chaosTrace) add(format string, args ...any) {
	if tr == nil {
		return
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.events = append(tr.events, chaosEvent{time.Now(), fmt.Sprintf(format, args...)})
}

// hooks records every token request's outcome.
func (tr *chaosTrace) hooks() *hooks.Hooks {
	return &hooks.Hooks{RefreshDone: func(_ context.Context, i hooks.RefreshDoneInfo) {
		if i.Err == nil {
			tr.add("token (attempt %d, waited %v, took %v), served until %s", i.Attempt, i.Waited, i.Duration.Round(time.Millisecond), tr.rel(i.Expiry))
			return
		}
		msg := i.Err.Error()
		if len(msg) > 90 {
			msg = msg[:90] + "…"
		}
		tr.add("failed (attempt %d, waited %v, took %v), next at %s: %s", i.Attempt, i.Waited, i.Duration.Round(time.Millisecond), tr.rel(i.NextAttempt), msg)
	}}
}

// chaosBurst is a run of caller errors with less than a second between
// any two.
type chaosBurst struct {
	from, to time.Time
	errors   int
}

// bursts groups the errors outside outages.
func (r chaosRun) bursts() []chaosBurst {
	var out []chaosBurst
	for _, at := range r.errorTimes {
		if r.phase(at) != chaosRunning {
			continue
		}
		if n := len(out); n > 0 && at.Sub(out[n-1].to) < time.Second {
			out[n-1].to, out[n-1].errors = at, out[n-1].errors+1
			continue
		}
		out = append(out, chaosBurst{from: at, to: at, errors: 1})
	}
	return out
}

// traceBursts describes the first n bursts of errors, each with the trace
// from 45 s before it to its end.
func (r chaosRun) traceBursts(tr *chaosTrace, n int) string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	events := slices.Clone(tr.events)
	slices.SortStableFunc(events, func(a, b chaosEvent) int { return a.at.Compare(b.at) })
	var b strings.Builder
	rel := tr.rel
	for i, burst := range r.bursts() {
		if i == n {
			break
		}
		fmt.Fprintf(&b, "\nburst %d: %s to %s, %d errors\n", i+1, rel(burst.from), rel(burst.to), burst.errors)
		for _, e := range events {
			if !e.at.Before(burst.from.Add(-45*time.Second)) && !e.at.After(burst.to) {
				fmt.Fprintf(&b, "  %s %s\n", rel(e.at), e.text)
			}
		}
	}
	return b.String()
}

// burstText describes the first n bursts of errors outside outages.
func (r chaosRun) burstText(n int) string {
	var parts []string
	bursts := r.bursts()
	for _, b := range bursts[:min(n, len(bursts))] {
		parts = append(parts, fmt.Sprintf("%d errors at %.1f–%.1f s", b.errors, b.from.Sub(r.start).Seconds(), b.to.Sub(r.start).Seconds()))
	}
	if len(bursts) > n {
		parts = append(parts, fmt.Sprintf("… %d in all", len(bursts)))
	}
	return strings.Join(parts, ", ")
}
