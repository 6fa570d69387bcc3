package conformance

// The chaos scenario: one token source in a testing/synctest bubble for one
// simulated hour, against the in-process fake behind a chaosTransport that
// fails half of all requests; 40 callers, a credential file rotated every 7
// minutes (the old key deleted a minute later), the fake's clock moved
// within ±30 s, and one 6-minute total outage, followed by 10 s without
// chaos. Everything the scenario
// draws comes from its seed; the library's own jitter does not, so a rerun
// of a seed meets the same chaos, not the very same requests.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/filewatch"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// The scenario's figures.
const (
	chaosCallers      = 40
	chaosDuration     = time.Hour
	chaosFailShare    = 0.5
	chaosRotateEvery  = 7 * time.Minute
	chaosRevokeAfter  = time.Minute
	chaosMaxOffset    = 30 * time.Second
	chaosOutage       = 6 * time.Minute
	chaosCallTimeout  = 30 * time.Second  // each caller's deadline
	chaosProjection   = time.Second       // ZITADEL's projection lag, harsher than measured
	chaosHeapSampleAt = time.Minute       // the first heap sample
	chaosTokenPath    = "/oauth/v2/token" // what counts as a token request
	chaosCallPause    = time.Second       // a caller pauses 1 to 3 s between calls
	chaosOffsetEvery  = 5 * time.Minute   // the clock moves every 2.5 to 7.5 min
)

// chaosCell is one kind of run: a token lifetime and a credential.
type chaosCell struct {
	lifetime time.Duration
	secret   bool // client credentials from a secret file; otherwise a key file (JWT bearer)
}

func (c chaosCell) String() string {
	grant := "key file"
	if c.secret {
		grant = "client credentials"
	}
	return fmt.Sprintf("%v tokens, %s", c.lifetime, grant)
}

// chaosCells are the cells measured.
var chaosCells = []chaosCell{
	{lifetime: 5 * time.Minute}, {lifetime: 5 * time.Minute, secret: true},
	{lifetime: time.Minute}, {lifetime: time.Minute, secret: true},
}

// chaosRun is what one run saw.
type chaosRun struct {
	cell       chaosCell
	start      time.Time
	length     time.Duration // of the run
	outage     chaosWindow
	calls      int
	errorTimes []time.Time   // when each failed call returned
	violations []string      // broken promises: expired, unknown or withheld tokens
	requests   int           // token requests
	firstToken time.Duration // from the outage's end to the first token
	startToken time.Duration // from the start to the source's first token
	recovered  bool          // a token came after the outage
	aroundEnd  []string      // the token requests from 30 s before the outage's end
	heapFirst  uint64
	heapEnd    uint64
	modes      string
}

// runChaos runs the scenario once; call it inside a bubble.
func runChaos(t *testing.T, cell chaosCell, seed uint64) chaosRun {
	rng := rand.New(rand.NewPCG(seed, 1))
	start := time.Now()
	run := chaosRun{cell: cell, start: start, length: chaosDuration, startToken: chaosDuration}
	run.outage = drawOutage(rng, start)

	srv := serviceusertest.NewServer(serviceusertest.InProcess())
	defer srv.Close()
	srv.SetTokenLifetime(cell.lifetime)
	srv.SetProjectionDelay(chaosProjection)
	trace := &chaosTrace{start: start, rejections: srv.Rejections}
	chaos := newChaosTransport(srv.Transport(), seed, chaosFailShare, chaosTokenPath)
	chaos.trace = trace
	chaos.addOutage(run.outage)
	// The recovery goal is the source's: the endpoint answers its first
	// request after the outage, so that a hang (until the request
	// timeout) or a 429 asking for up to 29 s, which no client can
	// shorten, does not decide it.
	chaos.addCalm(chaosWindow{from: run.outage.to, to: run.outage.to.Add(chaosMaxRecovery)})
	client := &http.Client{Transport: chaos}

	cred := newChaosCredential(t, srv, cell.secret)
	ts := cred.tokenSource(srv.Issuer(), client, trace.hooks())
	defer ts.Close()

	obs := &chaosObserver{transport: chaos, trace: trace}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range chaosCallers {
		crng := rand.New(rand.NewPCG(seed, uint64(100+i)))
		wg.Go(func() { obs.caller(ts, crng, stop) })
	}
	wg.Go(func() { chaosDirector(rng, srv, cred, start, stop, trace) })

	time.Sleep(chaosHeapSampleAt)
	run.heapFirst = heapInUse()
	time.Sleep(chaosDuration - chaosHeapSampleAt)
	run.heapEnd = heapInUse()
	close(stop)
	wg.Wait()

	run.collect(obs, chaos)
	run.modes = chaos.modes()
	if *chaosTraceBursts > 0 && (run.outsideErrors() > 0 || len(run.missed()) > 0) {
		t.Log(run.traceBursts(trace, *chaosTraceBursts))
	}

	return run
}

// drawOutage draws a run's outage: chaosOutage long, from 10 to 44 minutes
// after start.
func drawOutage(rng *rand.Rand, start time.Time) chaosWindow {
	from := start.Add(10*time.Minute + time.Duration(rng.Int64N(int64(34*time.Minute))))
	return chaosWindow{from: from, to: from.Add(chaosOutage)}
}

// heapInUse collects garbage and returns the live heap.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// chaosDirector rotates the credential, deletes the old key and moves the
// fake's clock, on the schedule the seed draws, until stop.
func chaosDirector(rng *rand.Rand, srv *serviceusertest.Server, cred *chaosCredential, start time.Time, stop <-chan struct{}, trace *chaosTrace) {
	type event struct {
		at time.Duration
		do func()
	}
	var events []event
	for at := chaosRotateEvery; at < chaosDuration; at += chaosRotateEvery {
		var old string
		events = append(events, event{at, func() { old = cred.rotate(srv); trace.add("credential rotated") }})
		events = append(events, event{at + chaosRevokeAfter, func() { cred.retire(srv, old); trace.add("old key deleted") }})
	}
	for at := time.Duration(0); at < chaosDuration; {
		at += chaosOffsetEvery/2 + time.Duration(rng.Int64N(int64(chaosOffsetEvery)))
		offset := time.Duration(rng.Int64N(int64(2*chaosMaxOffset+1))) - chaosMaxOffset
		events = append(events, event{at, func() { srv.SetClockOffset(offset); trace.add("clock offset %v", offset) }})
	}
	slices.SortStableFunc(events, func(a, b event) int { return int(a.at - b.at) })
	for _, e := range events {
		timer := time.NewTimer(time.Until(start.Add(e.at)))
		select {
		case <-stop:
			timer.Stop()
			return
		case <-timer.C:
			e.do()
		}
	}
}

// chaosCredential is the credential file a token source watches, and what
// the fake knows of it.
type chaosCredential struct {
	path    string
	secret  bool
	user    *serviceusertest.ServiceUser
	keyID   string // the key file's key, when not secret
	rotated int
}

func newChaosCredential(t *testing.T, srv *serviceusertest.Server, secret bool) *chaosCredential {
	c := &chaosCredential{path: filepath.Join(t.TempDir(), "credential"), secret: secret}
	if secret {
		var s string
		c.user, s = srv.NewServiceUserWithSecret()
		c.write([]byte(s))
	} else {
		c.user = srv.NewServiceUser()
		c.keyID = c.user.KeyID
		c.write(c.user.KeyFile)
	}
	return c
}

// write replaces the file as a rotation does: a new file renamed into place.
func (c *chaosCredential) write(data []byte) {
	tmp := c.path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		panic(err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		panic(err)
	}
}

// rotate hands out a new credential and returns the key it replaced ("" for
// a secret, which ZITADEL replaces at once: a machine user has one secret).
func (c *chaosCredential) rotate(srv *serviceusertest.Server) (old string) {
	c.rotated++
	if c.secret {
		s := fmt.Sprintf("rotated-secret-%d", c.rotated)
		srv.SetClientSecret(c.user.Username, s)
		c.write([]byte(s))
		return ""
	}
	kf := srv.NewKey(c.user.UserID)
	old = c.keyID
	parsed, err := serviceuser.ParseKeyFile(kf)
	if err != nil {
		panic(err)
	}
	c.keyID = parsed.KeyID
	c.write(kf)
	return old
}

// retire deletes the replaced key on the fake.
func (c *chaosCredential) retire(srv *serviceusertest.Server, old string) {
	if old != "" {
		srv.RevokeKey(old)
	}
}

// tokenSource watches the file and returns a token source over it.
func (c *chaosCredential) tokenSource(issuer string, client *http.Client, h *hooks.Hooks) *serviceuser.TokenSource {
	if c.secret {
		src, err := filewatch.NewSecretSource(c.path)
		if err != nil {
			panic(err)
		}
		cfg := serviceuser.ClientCredentialsConfig{ClientID: c.user.Username, ClientSecret: src, Issuer: issuer, HTTPClient: client, Hooks: h}
		return cfg.TokenSource(context.Background())
	}
	src, err := filewatch.NewKeySource(c.path)
	if err != nil {
		panic(err)
	}
	return serviceuser.Config{Key: src, Issuer: issuer, HTTPClient: client, Hooks: h}.TokenSource(context.Background())
}

// waitText is a request's Retry-After, for a 429.
func waitText(r chaosRequest) string {
	if r.refused != "" {
		return fmt.Sprintf(" (the fake: %s)", r.refused)
	}
	if r.mode != chaosLimited {
		return ""
	}
	return fmt.Sprintf(" (Retry-After %v)", r.wait)
}

// noteRequests counts the token requests and keeps those from 30 s before
// the outage's end, for a message.
func (r *chaosRun) noteRequests(reqs []chaosRequest) {
	r.requests = len(reqs)
	for _, q := range reqs {
		if q.at.After(r.outage.to.Add(-chaosCallTimeout)) && len(r.aroundEnd) < 16 {
			r.aroundEnd = append(r.aroundEnd, fmt.Sprintf("%+.1fs %v%s", q.at.Sub(r.outage.to).Seconds(), q.mode, waitText(q)))
		}
	}
}
