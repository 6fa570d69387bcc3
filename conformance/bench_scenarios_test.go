package conformance

import (
	"net/http"
	"testing"
	"time"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// Refresh scenario: tokens live benchRefreshLifetime, the token endpoint answers
// after benchRefreshLatency, and benchRefreshCallers callers keep asking while the
// token is replaced benchRefreshCount times.
const (
	benchRefreshLifetime = 3 * time.Second
	benchRefreshLatency  = 200 * time.Millisecond
	benchRefreshCallers  = 100
	benchRefreshCount    = 3
	// benchSlowCall is a call that must have waited on the token endpoint.
	benchSlowCall = benchRefreshLatency / 2
)

// benchRefreshResult is what one run of the refresh scenario measured.
type benchRefreshResult struct {
	benchCallStats
	refreshes int
}

// benchRunRefreshScenario warms up a fresh source of peer, then runs the callers
// until benchRefreshCount more token requests have been answered (or a bound of
// ten token lifetimes passes).
func benchRunRefreshScenario(tb testing.TB, peer benchPeer, env *benchEnv) benchRefreshResult {
	tb.Helper()
	env.srv.SetTokenLifetime(benchRefreshLifetime)
	env.srv.SetLatency(benchRefreshLatency)
	// ReuseTokenSource's default margin (10 s) exceeds the lifetime, so it
	// would fetch on every call; give it the margin serviceuser uses, a tenth
	// of the lifetime.
	env.reuseExpiryDelta = benchRefreshLifetime / 10
	src, release := peer.open(tb, env)
	defer release()
	if _, err := src.Token(); err != nil {
		tb.Fatal(err)
	}
	base := env.srv.TokenRequests()

	stop := make(chan struct{})
	go func() {
		defer close(stop)
		deadline := time.After(10 * benchRefreshLifetime)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-deadline:
				return
			case <-tick.C:
			}
			if env.srv.TokenRequests()-base >= benchRefreshCount {
				// Let the last refresh be answered and served.
				time.Sleep(2 * benchRefreshLatency)
				return
			}
		}
	}()
	stats := benchRunCallers(src, benchRefreshCallers, stop, true)
	return benchRefreshResult{benchCallStats: stats, refreshes: env.srv.TokenRequests() - base}
}

// Failing-endpoint scenario: the cached token expires while every token
// request fails with 500, and benchFailingCallers callers keep asking.
const (
	benchFailingLifetime = time.Second
	benchFailingCallers  = 100
)

// benchFailingResult is what one run of the failing-endpoint scenario measured.
type benchFailingResult struct {
	benchCallStats
	requests int
}

// benchRunFailingScenario fetches a token with a fresh source of peer, makes the
// token endpoint fail, lets the token expire, then runs the callers for
// window and counts the token requests they caused.
func benchRunFailingScenario(tb testing.TB, peer benchPeer, env *benchEnv, window time.Duration) benchFailingResult {
	tb.Helper()
	env.srv.SetTokenLifetime(benchFailingLifetime)
	env.reuseExpiryDelta = benchFailingLifetime / 10
	src, release := peer.open(tb, env)
	defer release()
	if _, err := src.Token(); err != nil {
		tb.Fatal(err)
	}
	// Enough faults for a source that sends a request per call, plenty more
	// than the callers can make in window.
	env.srv.FailNext(benchFailingCallers*int(window/benchCallerPause), serviceusertest.Fault{Status: http.StatusInternalServerError})
	issued := env.srv.IssuedTokens()
	time.Sleep(benchFailingLifetime + benchFailingLifetime/10)
	base := env.srv.TokenRequests()

	stop := make(chan struct{})
	time.AfterFunc(window, func() { close(stop) })
	stats := benchRunCallers(src, benchFailingCallers, stop, false)
	res := benchFailingResult{benchCallStats: stats, requests: env.srv.TokenRequests() - base}
	env.srv.FailNext(0, serviceusertest.Fault{})
	if env.srv.IssuedTokens() != issued {
		tb.Fatalf("%s: the token endpoint issued a token during the outage: too few faults queued", peer.name)
	}
	return res
}

// benchRequestsDuring runs f and returns how many token requests reached env's
// server meanwhile.
func benchRequestsDuring(env *benchEnv, f func()) int {
	before := env.srv.TokenRequests()
	f()
	return env.srv.TokenRequests() - before
}
