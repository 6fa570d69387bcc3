package conformance

// The benchmarks compare serviceuser.TokenSource with zitadel/oidc's JWT
// profile token source, bare and wrapped in oauth2.ReuseTokenSource, against
// serviceusertest's fake ZITADEL. They report counts and latencies as
// metrics; no test asserts a wall-clock time.
//
// The cached read, at 1, 2 and 16 goroutines:
//
//	go test -run '^$' -bench HotPath -benchmem -cpu 1,2,16 -v
//
// The scenarios, one iteration each being one whole scenario (about 40 s
// in all):
//
//	go test -run '^$' -bench 'ColdHerd|RefreshAhead|FailingEndpoint' -benchtime 1x -v
//
// Add -failwindow 1s to shorten BenchmarkFailingEndpoint. With -v each
// benchmark ends with a markdown table of its results, one row per peer and
// GOMAXPROCS. Combined with -cpu, -benchtime 1x reports for the first -cpu
// value the probe run that the testing package makes before it sets
// GOMAXPROCS; the tables show the GOMAXPROCS each run really had.

import (
	"flag"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

var benchFailWindow = flag.Duration("failwindow", 5*time.Second,
	"how long BenchmarkFailingEndpoint's callers run against the failing token endpoint")

var benchHotPathTable = newBenchTable("BenchmarkHotPath: cached Token(), parallel callers",
	"peer", "-cpu", "ns/op", "allocs/op", "vs serviceuser")

// BenchmarkHotPath measures Token() once a token is cached, from
// GOMAXPROCS goroutines at once.
func BenchmarkHotPath(b *testing.B) {
	env := newBenchEnv(b, serviceusertest.KeyRSA)

	su, releaseSU := benchOpenServiceuser(b, env)
	defer releaseSU()
	tok, err := su.Token()
	if err != nil {
		b.Fatal(err)
	}
	rz, releaseRZ := benchOpenReuseZitadel(b, env)
	defer releaseRZ()

	peers := []struct {
		name string
		src  oauth2.TokenSource
	}{
		{peerServiceuser, su},
		// The least any mutex-guarded cache can cost: a real token
		// served by ReuseTokenSource over a static source.
		{peerReuseStatic, oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(tok))},
		{peerReuseZitadel, rz},
	}
	for _, p := range peers {
		if _, err := p.src.Token(); err != nil {
			b.Fatal(err)
		}
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := p.src.Token(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			runtime.ReadMemStats(&after)
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if p.name == peerServiceuser {
				benchHotPathTable.setBase(ns)
			}
			allocs := float64(after.Mallocs-before.Mallocs) / float64(b.N)
			benchHotPathTable.set(p.name, fmt.Sprintf("%.1f", ns), fmt.Sprintf("%.0f", allocs), benchHotPathTable.ratio(ns))
		})
	}
	benchHotPathTable.printAtEnd(b)
}

// Cold herd: benchHerdSize callers make their first Token call at once on a
// fresh source while the token endpoint takes benchHerdLatency to answer.
const (
	benchHerdSize    = 1000
	benchHerdLatency = 50 * time.Millisecond
)

var benchColdHerdTable = newBenchTable(
	fmt.Sprintf("BenchmarkColdHerd: %d callers, first Token() at once, endpoint latency %v", benchHerdSize, benchHerdLatency),
	"peer", "-cpu", "token requests", "time until all served")

// BenchmarkColdHerd counts the token requests a herd of first callers
// causes. serviceuser makes one.
func BenchmarkColdHerd(b *testing.B) {
	env := newBenchEnv(b, serviceusertest.KeyRSA)
	env.srv.SetLatency(benchHerdLatency)
	for _, peer := range []benchPeer{benchPeerServiceuser, benchPeerReuse, benchPeerZitadel} {
		b.Run(peer.name, func(b *testing.B) {
			requests := 0
			var elapsed time.Duration
			for range b.N {
				b.StopTimer()
				src, release := peer.open(b, env)
				b.StartTimer()
				start := time.Now()
				var err error
				requests += benchRequestsDuring(env, func() { err = benchRunHerd(src, benchHerdSize) })
				elapsed += time.Since(start)
				b.StopTimer()
				release()
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			perOp := float64(requests) / float64(b.N)
			b.ReportMetric(perOp, "token-requests/op")
			benchColdHerdTable.set(peer.name, fmt.Sprintf("%.0f", perOp), benchFmtDuration(elapsed/time.Duration(b.N)))
		})
	}
	benchColdHerdTable.printAtEnd(b)
}

var benchRefreshTable = newBenchTable(
	fmt.Sprintf("BenchmarkRefreshAhead: %d callers, token lifetime %v, endpoint latency %v, %d refreshes",
		benchRefreshCallers, benchRefreshLifetime, benchRefreshLatency, benchRefreshCount),
	"peer", "-cpu", "refreshes", "calls", fmt.Sprintf("calls > %v", benchSlowCall), "p99", "p99.9", "max", "max vs serviceuser")

// BenchmarkRefreshAhead measures how long callers wait while the token is
// replaced. serviceuser refreshes in the background ahead of expiry, so no
// call waits for the slow endpoint; ReuseTokenSource fetches once the token
// has expired, holding its mutex, so every caller waits for the endpoint
// once per refresh. One iteration is the whole scenario (-benchtime 1x).
func BenchmarkRefreshAhead(b *testing.B) {
	for _, peer := range []benchPeer{benchPeerServiceuser, benchPeerReuse} {
		b.Run(peer.name, func(b *testing.B) {
			env := newBenchEnv(b, serviceusertest.KeyRSA)
			var all benchRefreshResult
			for range b.N {
				r := benchRunRefreshScenario(b, peer, env)
				all.refreshes += r.refreshes
				all.calls += r.calls
				all.errors += r.errors
				all.latencies = append(all.latencies, r.latencies...)
			}
			slices.Sort(all.latencies)
			if all.errors > 0 {
				b.Errorf("%d of %d calls failed", all.errors, all.calls)
			}
			n := float64(b.N)
			maxLat := all.quantile(1)
			if peer.name == peerServiceuser {
				benchRefreshTable.setBase(float64(maxLat))
			}
			slow := all.slowerThan(benchSlowCall)
			b.ReportMetric(0, "ns/op") // one iteration is a whole scenario: meaningless
			b.ReportMetric(float64(maxLat.Nanoseconds()), "max-ns")
			b.ReportMetric(float64(all.quantile(0.99).Nanoseconds()), "p99-ns")
			b.ReportMetric(float64(all.quantile(0.999).Nanoseconds()), "p99.9-ns")
			b.ReportMetric(float64(slow)/n, "slow-calls/op")
			b.ReportMetric(float64(all.refreshes)/n, "refreshes/op")
			b.ReportMetric(float64(all.calls)/n, "calls/op")
			benchRefreshTable.set(peer.name, fmt.Sprintf("%.0f", float64(all.refreshes)/n), fmt.Sprintf("%.0f", float64(all.calls)/n),
				fmt.Sprintf("%.0f", float64(slow)/n),
				benchFmtDuration(all.quantile(0.99)), benchFmtDuration(all.quantile(0.999)), benchFmtDuration(maxLat),
				benchRefreshTable.ratio(float64(maxLat)))
		})
	}
	benchRefreshTable.printAtEnd(b)
}

var benchFailingTable = newBenchTable(
	fmt.Sprintf("BenchmarkFailingEndpoint: %d callers, expired token, every token request fails with 500", benchFailingCallers),
	"peer", "-cpu", "window", "calls", "token requests", "requests/s", "vs serviceuser")

// BenchmarkFailingEndpoint counts the token requests callers cause while
// the token endpoint fails every request. serviceuser's backoff bounds them
// whatever the number of callers; a source without backoff sends one per
// call. -failwindow sets how long the callers run.
func BenchmarkFailingEndpoint(b *testing.B) {
	window := *benchFailWindow
	for _, peer := range []benchPeer{benchPeerServiceuser, benchPeerReuse, benchPeerZitadel} {
		b.Run(peer.name, func(b *testing.B) {
			env := newBenchEnv(b, serviceusertest.KeyRSA)
			var requests, calls int
			for range b.N {
				r := benchRunFailingScenario(b, peer, env, window)
				requests += r.requests
				calls += r.calls
				if r.errors != r.calls {
					b.Errorf("%d of %d calls got a token from a failing endpoint", r.calls-r.errors, r.calls)
				}
			}
			n := float64(b.N)
			perOp := float64(requests) / n
			if peer.name == peerServiceuser {
				benchFailingTable.setBase(perOp)
			}
			b.ReportMetric(0, "ns/op") // one iteration is a whole scenario: meaningless
			b.ReportMetric(perOp, "token-requests/op")
			b.ReportMetric(float64(calls)/n, "calls/op")
			b.ReportMetric(perOp/window.Seconds(), "token-requests/s")
			benchFailingTable.set(peer.name, window.String(),
				fmt.Sprintf("%.0f", float64(calls)/n), fmt.Sprintf("%.0f", perOp),
				fmt.Sprintf("%.1f", perOp/window.Seconds()), benchFailingTable.ratio(perOp))
		})
	}
	benchFailingTable.printAtEnd(b)
}
