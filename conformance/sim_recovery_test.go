package conformance

// Recovery after an outage of the token endpoint: how many requests a token
// source sends while the endpoint answers 503, and how long after the
// endpoint's return the first token arrives. The full runs:
//
//	go test -run '^$' -bench Recovery -benchtime 1x .

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-serviceuser/serviceuser"
)

// recoveryScenario is one outage.
type recoveryScenario struct {
	callers  int           // goroutines calling TokenContext about every 100 ms
	lifetime time.Duration // of every token
	outage   time.Duration // how long the endpoint answers 503
	// cached: the outage starts right after a fresh token arrived, so a
	// valid token is cached throughout; otherwise it starts the moment the
	// cached token expired, with callers waiting and nothing to serve.
	cached bool
	runs   int // repetitions; the library's jitter differs in each
}

func (s recoveryScenario) name() string {
	if s.cached {
		return fmt.Sprintf("cached/outage=%v", s.outage)
	}
	return fmt.Sprintf("expired/outage=%v", s.outage)
}

// recoveryGiveUp bounds the wait for the first token after the outage.
const recoveryGiveUp = 30 * time.Minute

// Callers ask for a token every recoveryCallerPause, jittered by ±50 %. Their
// context has no deadline: the library bounds each request itself.
const recoveryCallerPause = 100 * time.Millisecond

// recoveryRun is what one run measured.
type recoveryRun struct {
	requests  int           // token requests while the endpoint was down
	recovered bool          // a token came within recoveryGiveUp
	delay     time.Duration // endpoint back -> first token sent
	calls     int
	errors    int // calls that returned an error
	panics    int
}

// runRecovery runs the scenario once; call it inside a bubble.
func runRecovery(t *testing.T, s recoveryScenario) recoveryRun {
	ep := newSimEndpoint(s.lifetime, 0)
	ts := simSource(context.Background(), ep)
	defer ts.Close()
	if _, err := ts.Token(); err != nil {
		t.Fatalf("token before the outage: %v", err)
	}
	if !s.cached {
		time.Sleep(s.lifetime)
	}
	ep.setMode(simUnavailable)
	down := time.Now()
	crowd := startSimCallers(ts, s.callers)
	time.Sleep(s.outage)
	ep.setMode(simUp)
	up := time.Now()

	run := recoveryRun{requests: ep.requestsBetween(down, up)}
	var first time.Time
	for !run.recovered && time.Since(up) < recoveryGiveUp {
		time.Sleep(recoveryCallerPause)
		first, run.recovered = ep.firstIssuedSince(up)
	}
	run.delay = first.Sub(up)
	if s.cached {
		time.Sleep(s.lifetime) // past the end of the token cached before the outage
	}
	run.calls, run.errors, run.panics = crowd.stop()
	return run
}

// simCallers is a crowd of goroutines asking one token source for tokens.
type simCallers struct {
	stopped               atomic.Bool
	wg                    sync.WaitGroup
	calls, errors, panics atomic.Int64
}

// startSimCallers starts n callers, each calling ts.TokenContext about every
// recoveryCallerPause. (Sleep and a flag cost less than a timer and a select,
// which matters with millions of simulated calls.)
func startSimCallers(ts *serviceuser.TokenSource, n int) *simCallers {
	c := &simCallers{}
	for range n {
		c.wg.Go(func() {
			time.Sleep(rand.N(recoveryCallerPause))
			for !c.stopped.Load() {
				c.call(ts)
				time.Sleep(recoveryCallerPause/2 + rand.N(recoveryCallerPause))
			}
		})
	}
	return c
}

// call asks for one token, counting errors and panics.
func (c *simCallers) call(ts *serviceuser.TokenSource) {
	c.calls.Add(1)
	switch ok, panicked := simCall(ts); {
	case panicked:
		c.panics.Add(1)
	case !ok:
		c.errors.Add(1)
	}
}

// stop ends the callers and returns their counts.
func (c *simCallers) stop() (calls, errors, panics int) {
	c.stopped.Store(true)
	c.wg.Wait()
	return int(c.calls.Load()), int(c.errors.Load()), int(c.panics.Load())
}

// recoverySummary gathers the runs of one scenario.
type recoverySummary struct {
	s        recoveryScenario
	requests []int           // sorted
	delays   []time.Duration // sorted, recovered runs only
	failed   int             // runs without a token within recoveryGiveUp
	errors   int             // caller errors, all runs
	calls    int
}

// runRecoveryScenario runs s.runs times inside the current bubble and checks
// the only properties asserted: no caller ever sees a panic, and the request
// rate during the outage stays below one request per 500 ms (plus 5).
func runRecoveryScenario(t *testing.T, s recoveryScenario) recoverySummary {
	sum := recoverySummary{s: s}
	bound := int(s.outage/(500*time.Millisecond)) + 5
	for range s.runs {
		r := runRecovery(t, s)
		if r.panics > 0 {
			t.Errorf("%s: %d calls panicked", s.name(), r.panics)
		}
		if r.requests > bound {
			t.Errorf("%s: %d token requests during the outage, more than %d", s.name(), r.requests, bound)
		}
		sum.requests = append(sum.requests, r.requests)
		if r.recovered {
			sum.delays = append(sum.delays, r.delay)
		} else {
			sum.failed++
		}
		sum.errors += r.errors
		sum.calls += r.calls
	}
	slices.Sort(sum.requests)
	slices.Sort(sum.delays)
	return sum
}

func (sum recoverySummary) medianRequests() int { return sum.requests[len(sum.requests)/2] }

// delay returns the q-quantile of the recovery delays.
func (sum recoverySummary) delay(q float64) time.Duration {
	return benchCallStats{latencies: sum.delays}.quantile(q)
}

// row formats sum for recoveryTable.
func (sum recoverySummary) row() []string {
	per5s := float64(sum.medianRequests()) / (float64(sum.s.outage) / float64(5*time.Second))
	recovery := "none"
	if len(sum.delays) > 0 {
		recovery = fmt.Sprintf("%v / %v / %v", sum.delay(0).Round(time.Millisecond),
			sum.delay(0.5).Round(time.Millisecond), sum.delay(1).Round(time.Millisecond))
	}
	if sum.failed > 0 {
		recovery += fmt.Sprintf(" (%d runs without a token after %v)", sum.failed, recoveryGiveUp)
	}
	return []string{
		sum.s.name(), fmt.Sprint(len(sum.requests)),
		fmt.Sprintf("%d (%d–%d)", sum.medianRequests(), sum.requests[0], sum.requests[len(sum.requests)-1]),
		fmt.Sprintf("%.1f", per5s), recovery,
		fmt.Sprintf("%d of %d", sum.errors, sum.calls),
	}
}

func newRecoveryTable() *simTable {
	return newSimTable("outage", "runs", "requests during outage: median (min–max)", "req/5 s",
		"recovery (first token after the return): min / median / max", "caller errors")
}

// recoveryScenarios are the outages measured: at expiry, 5 s, 60 s and 5 min;
// and 20 s starting right after a fresh token of 30 s, which ends before
// that token must be replaced.
func recoveryScenarios(callers, runs int, outages ...time.Duration) []recoveryScenario {
	const lifetime = 30 * time.Second
	var out []recoveryScenario
	for _, o := range outages {
		out = append(out, recoveryScenario{callers: callers, lifetime: lifetime, outage: o, runs: runs})
	}
	return append(out, recoveryScenario{callers: callers, lifetime: lifetime, outage: 20 * time.Second, cached: true, runs: runs})
}

// TestRecoverySimulation runs the recovery harness with small parameters.
func TestRecoverySimulation(t *testing.T) {
	table := newRecoveryTable()
	for _, s := range recoveryScenarios(20, 1, 5*time.Second) {
		synctest.Test(t, func(t *testing.T) {
			sum := runRecoveryScenario(t, s)
			if len(sum.delays) != 1 {
				t.Errorf("%s: no token within %v after the endpoint came back", s.name(), recoveryGiveUp)
			}
			table.row(sum.row()...)
		})
	}
	t.Log(table)
}

// BenchmarkRecovery measures recovery with 200 callers over 21 runs per
// outage. One iteration is one whole scenario; use -benchtime 1x.
func BenchmarkRecovery(b *testing.B) {
	table := newRecoveryTable()
	for _, s := range recoveryScenarios(200, 21, 5*time.Second, time.Minute, 5*time.Minute) {
		b.Run(s.name(), func(b *testing.B) {
			for b.Loop() {
				var sum recoverySummary
				simBubble(b, func(t *testing.T) { sum = runRecoveryScenario(t, s) })
				b.ReportMetric(float64(sum.medianRequests()), "req/outage")
				b.ReportMetric(sum.delay(0.5).Seconds(), "recovery-median-s")
				b.ReportMetric(sum.delay(1).Seconds(), "recovery-max-s")
				table.row(sum.row()...)
			}
		})
	}
	table.print(b)
}
