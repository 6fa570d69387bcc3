package conformance

// The chaos scenario on the real clock, over loopback TCP, for as long as
// SERVICEUSER_SOAK says (e.g. 3m); skipped without it. Run it under the race
// detector:
//
//	cd conformance && SERVICEUSER_SOAK=3m go test -race -run '^TestChaosRealTime$' -timeout 30m -v .
//
// The fake listens on 127.0.0.1; the chaos transport wraps its client's real
// transport. Time is compressed: 1-minute tokens, the key rotated every 30 s
// (the old one deleted 10 s later), the fake's clock moved every 20 s, and a
// 70-second outage in the middle, long enough for the cached token to expire,
// then 10 s without chaos, as in the simulated soak.

import (
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

const (
	realLifetime    = time.Minute
	realRotateEvery = 30 * time.Second
	realRevokeAfter = 10 * time.Second
	realOffsetEvery = 20 * time.Second
	realOutage      = 70 * time.Second
	// realRequestsPerMinute bounds the token requests per minute of soak:
	// 1-minute tokens cost about 4 a minute under chaos (200 an hour in the
	// simulated soak), and the outage about 12 a minute of probes.
	realRequestsPerMinute = 20
)

// TestChaosRealTime is the real-time soak.
func TestChaosRealTime(t *testing.T) {
	soak, err := time.ParseDuration(os.Getenv("SERVICEUSER_SOAK"))
	if err != nil || soak < 2*realOutage {
		t.Skipf("set SERVICEUSER_SOAK to a duration of at least %v (e.g. 3m) to run the real-time soak", 2*realOutage)
	}
	seed := *chaosFirstSeed
	fdStart, goStart := openFiles(t), runtime.NumGoroutine()
	leaks := goleak.IgnoreCurrent()
	rng := rand.New(rand.NewPCG(seed, 3))
	start := time.Now()
	run := chaosRun{cell: chaosCell{lifetime: realLifetime}, start: start, length: soak, startToken: soak}
	outageAt := soak/2 - realOutage/2
	run.outage = chaosWindow{from: start.Add(outageAt), to: start.Add(outageAt + realOutage)}

	srv := serviceusertest.NewServer()
	srv.SetTokenLifetime(realLifetime)
	srv.SetProjectionDelay(chaosProjection)
	chaos := newChaosTransport(srv.Transport(), seed, chaosFailShare, chaosTokenPath)
	chaos.addOutage(run.outage)
	chaos.addCalm(chaosWindow{from: run.outage.to, to: run.outage.to.Add(chaosMaxRecovery)})
	cred := newChaosCredential(t, srv, false)
	ts := cred.tokenSource(srv.Issuer(), &http.Client{Transport: chaos}, nil)

	obs := &chaosObserver{transport: chaos}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range chaosCallers {
		crng := rand.New(rand.NewPCG(seed, uint64(300+i)))
		wg.Go(func() { obs.caller(ts, crng, stop) })
	}
	wg.Go(func() { realDirector(rng, srv, cred, stop) })
	heapAt := time.NewTimer(chaosHeapSampleAt)
	<-heapAt.C
	run.heapFirst = heapInUse()
	end := time.NewTimer(soak - chaosHeapSampleAt)
	<-end.C
	run.heapEnd = heapInUse()
	close(stop)
	wg.Wait()
	ts.Close()
	srv.Close()
	if tr, ok := srv.Transport().(interface{ CloseIdleConnections() }); ok {
		tr.CloseIdleConnections()
	}

	run.collect(obs, chaos)
	// The goals of the simulated soak, with the request bound for soak.
	for _, m := range run.missed() {
		t.Errorf("seed %d: %s", seed, m)
	}
	if bound := int(soak.Minutes()*realRequestsPerMinute) + 1; run.requests > bound {
		t.Errorf("%d token requests in %v, more than %d", run.requests, soak, bound)
	}
	if err := goleak.Find(leaks); err != nil {
		t.Errorf("goroutines left: %v", err)
	}
	fdEnd, goEnd := openFiles(t), runtime.NumGoroutine()
	if fdEnd > fdStart {
		t.Errorf("open files grew from %d to %d", fdStart, fdEnd)
	}
	t.Logf("%v: %d calls, %d errors outside the outage, %d before the first token (%v), %d token requests, first token %v after the %v outage; "+
		"open files %d -> %d, goroutines %d -> %d, live heap %d KiB after %v -> %d KiB at the end; %s",
		soak, run.calls, run.outsideErrors(), run.startErrors(), run.startToken.Round(time.Millisecond), run.requests,
		run.firstToken.Round(time.Millisecond), realOutage, fdStart, fdEnd, goStart, goEnd,
		run.heapFirst>>10, chaosHeapSampleAt, run.heapEnd>>10, chaos.modes())
}

// realDirector rotates the key file, deletes the old key and moves the
// fake's clock on the compressed schedule, until stop.
func realDirector(rng *rand.Rand, srv *serviceusertest.Server, cred *chaosCredential, stop <-chan struct{}) {
	rotate := time.NewTicker(realRotateEvery)
	defer rotate.Stop()
	offset := time.NewTicker(realOffsetEvery)
	defer offset.Stop()
	var retire <-chan time.Time
	var old string
	for {
		select {
		case <-stop:
			return
		case <-rotate.C:
			if old != "" { // a rotation came before the deletion was due
				cred.retire(srv, old)
			}
			old = cred.rotate(srv)
			retire = time.After(realRevokeAfter)
		case <-retire:
			cred.retire(srv, old)
			old, retire = "", nil
		case <-offset.C:
			srv.SetClockOffset(time.Duration(rng.Int64N(int64(2*chaosMaxOffset+1))) - chaosMaxOffset)
		}
	}
}

// openFiles counts the process's open file descriptors.
func openFiles(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	return len(entries)
}
