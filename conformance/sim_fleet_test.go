package conformance

// A fleet of token sources started at the same moment against a
// rate-limited token endpoint: how long until every source has a token, how
// many requests that takes, and how evenly the fleet's refreshes spread once
// it runs. The full run (add -fleetduration 12h to watch the refresh waves
// spread further):
//
//	go test -run '^$' -bench Fleet -benchtime 1x .

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fleetScenario is one fleet.
type fleetScenario struct {
	sources   int
	perSecond int           // the endpoint's limit; beyond it, 429 with Retry-After: 1
	lifetime  time.Duration // of every token
	duration  time.Duration // simulated
	// Each source has one caller. It asks for a token about every
	// callEvery once it has one, and about every retryEvery while it has
	// none (a service whose requests keep coming); both jittered by ±50 %.
	callEvery, retryEvery time.Duration
}

// fleetResult is what one fleet run measured.
type fleetResult struct {
	s        fleetScenario
	ready    int           // sources that got a token
	allReady time.Duration // when the last one did
	counts   []int         // requests per second of simulated time
	limited  int           // 429 answers
	panics   int
}

// runFleet runs the scenario; call it inside a bubble.
func runFleet(s fleetScenario) fleetResult {
	ep := newSimEndpoint(s.lifetime, s.perSecond)
	readyAt := make([]time.Duration, s.sources) // 0: no token yet
	var stopped atomic.Bool
	var panics atomic.Int64
	var wg sync.WaitGroup
	for i := range s.sources {
		ts := simSource(context.Background(), ep)
		wg.Go(func() {
			defer ts.Close()
			for !stopped.Load() {
				ok, panicked := simCall(ts)
				if panicked {
					panics.Add(1)
				}
				pause := s.retryEvery
				if ok {
					pause = s.callEvery
					if readyAt[i] == 0 {
						readyAt[i] = time.Since(ep.start)
					}
				}
				time.Sleep(pause/2 + rand.N(pause))
			}
		})
	}
	time.Sleep(s.duration)
	stopped.Store(true)
	wg.Wait()

	r := fleetResult{s: s, counts: ep.perSecondCounts(int(s.duration / time.Second)), limited: ep.limited, panics: int(panics.Load())}
	for _, at := range readyAt {
		if at > 0 {
			r.ready++
			r.allReady = max(r.allReady, at)
		}
	}
	return r
}

// startSeconds is the start: every second up to the one in which the last
// source got its first token.
func (r fleetResult) startSeconds() []int {
	return r.counts[:min(len(r.counts), int(r.allReady/time.Second)+1)]
}

// steadySeconds is the steady state: from the first request after the start
// (the first refresh) to the end of the simulation.
func (r fleetResult) steadySeconds() []int {
	rest := r.counts[len(r.startSeconds()):]
	first := slices.IndexFunc(rest, func(n int) bool { return n > 0 })
	if first < 0 {
		return nil
	}
	return rest[first:]
}

func simTotal(counts []int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// fleetReport is what the table shows of a run, and whether each target was
// met: all sources ready, start requests at most 1.2 times the sources, no
// steady-state second above 3 times the steady mean.
type fleetReport struct {
	startRequests         int
	startPeak, steadyPeak int
	retryPeak             int // the start's busiest second after the first
	steadyMean            float64
	windowRatio           float64 // steady state, over fleetWindow windows: peak / mean
	hourlyPeaks           []int   // steady state: the busiest second of each hour of simulated time
	allReady, cheapStart  bool
	evenSteady            bool
}

// fleetWindow is a window long enough to average away the noise of a few
// requests per second: it tells waves from chance.
const fleetWindow = 10 * time.Second

func (r fleetResult) report() fleetReport {
	start, steady := r.startSeconds(), r.steadySeconds()
	rep := fleetReport{startRequests: simTotal(start), allReady: r.ready == r.s.sources}
	if len(start) > 0 {
		rep.startPeak = slices.Max(start)
	}
	if len(start) > 1 {
		rep.retryPeak = slices.Max(start[1:])
	}
	if len(steady) > 0 {
		rep.steadyPeak = slices.Max(steady)
		rep.steadyMean = float64(simTotal(steady)) / float64(len(steady))
		rep.windowRatio = peakToMean(windowed(steady, int(fleetWindow/time.Second)))
	}
	for hour := range slices.Chunk(r.counts, int(time.Hour/time.Second)) {
		rep.hourlyPeaks = append(rep.hourlyPeaks, slices.Max(hour))
	}
	rep.cheapStart = float64(rep.startRequests) <= 1.2*float64(r.s.sources)
	rep.evenSteady = rep.steadyMean > 0 && float64(rep.steadyPeak) <= 3*rep.steadyMean
	return rep
}

// windowed sums counts over consecutive windows of n seconds.
func windowed(counts []int, n int) []int {
	var out []int
	for w := range slices.Chunk(counts, n) {
		out = append(out, simTotal(w))
	}
	return out
}

// peakToMean is the largest count over the mean count, or 0.
func peakToMean(counts []int) float64 {
	if len(counts) == 0 || simTotal(counts) == 0 {
		return 0
	}
	return float64(slices.Max(counts)) * float64(len(counts)) / float64(simTotal(counts))
}

// peakRatio is the steady state's busiest second over its mean.
func (rep fleetReport) peakRatio() float64 {
	if rep.steadyMean == 0 {
		return 0
	}
	return float64(rep.steadyPeak) / rep.steadyMean
}

func metWord(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// table returns the run as a markdown table, one row per measure.
func (r fleetResult) table() *simTable {
	rep := r.report()
	s := r.s
	t := newSimTable("measure", "value", "target")
	t.row("sources / limit / token lifetime / simulated", fmt.Sprintf("%d / %d per s / %v / %v", s.sources, s.perSecond, s.lifetime, s.duration), "")
	t.row("sources with a token", fmt.Sprintf("%d, all by %v", r.ready, r.allReady.Round(time.Millisecond)), "all: "+metWord(rep.allReady))
	t.row("requests until all ready (minimum: one per source)", fmt.Sprintf("%d = %.2f× the minimum", rep.startRequests, float64(rep.startRequests)/float64(s.sources)), "≤ 1.2×: "+metWord(rep.cheapStart))
	t.row("429 answers (whole run)", fmt.Sprint(r.limited), "")
	t.row("peak requests/s during the start: first second / after it", fmt.Sprintf("%d / %d", rep.startPeak, rep.retryPeak), "")
	t.row("steady state (first refresh to end)", fmt.Sprintf("%d s, %d requests", len(r.steadySeconds()), simTotal(r.steadySeconds())), "")
	t.row("steady state: mean / peak requests/s", fmt.Sprintf("%.2f / %d", rep.steadyMean, rep.steadyPeak), "")
	t.row("steady state: peak / mean", fmt.Sprintf("%.1f", rep.peakRatio()), "≤ 3: "+metWord(rep.evenSteady))
	t.row(fmt.Sprintf("steady state: peak / mean over %v windows", fleetWindow), fmt.Sprintf("%.1f", rep.windowRatio), "")
	t.row("busiest second of each simulated hour (the first holds the start)", fmt.Sprint(rep.hourlyPeaks), "")
	t.row("caller panics", fmt.Sprint(r.panics), "0")
	return t
}

// TestFleetSimulation runs the fleet harness with small parameters: 100
// sources, 10 requests per second.
func TestFleetSimulation(t *testing.T) {
	s := fleetScenario{sources: 100, perSecond: 10, lifetime: time.Hour, duration: 4 * time.Hour,
		callEvery: time.Minute, retryEvery: time.Second}
	synctest.Test(t, func(t *testing.T) {
		r := runFleet(s)
		if r.panics > 0 {
			t.Errorf("%d calls panicked", r.panics)
		}
		if simTotal(r.counts) < s.sources {
			t.Errorf("%d requests, fewer than the %d sources", simTotal(r.counts), s.sources)
		}
		t.Log(r.table())
	})
}

var fleetDuration = flag.Duration("fleetduration", 4*time.Hour, "simulated time BenchmarkFleet runs (its cost grows with it)")

// BenchmarkFleet starts 10,000 token sources at once against an endpoint
// that serves 100 requests per second and runs them for -fleetduration (4
// hours) of 1-hour tokens. One iteration is the whole run; use -benchtime 1x.
func BenchmarkFleet(b *testing.B) {
	s := fleetScenario{sources: 10000, perSecond: 100, lifetime: time.Hour, duration: *fleetDuration,
		callEvery: time.Minute, retryEvery: time.Second}
	for b.Loop() {
		var r fleetResult
		simBubble(b, func(t *testing.T) {
			if r = runFleet(s); r.panics > 0 {
				t.Errorf("%d calls panicked", r.panics)
			}
		})
		rep := r.report()
		b.ReportMetric(r.allReady.Seconds(), "all-ready-s")
		b.ReportMetric(float64(rep.startRequests)/float64(s.sources), "start-req/source")
		b.ReportMetric(float64(rep.startPeak), "start-peak-req/s")
		b.ReportMetric(rep.steadyMean, "steady-mean-req/s")
		b.ReportMetric(rep.peakRatio(), "steady-peak/mean")
		r.table().print(b)
	}
}
