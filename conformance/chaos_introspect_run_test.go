package conformance

import (
	"context"
	"encoding/base64"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// introRequestBound is the most introspection requests outside the outage
// may cost: introMaxAttempts per API request carrying an uncached token,
// outside the outage or started during it (whose retries may end after it).
// The single-flight check beside it is the other side: no more requests
// than API requests.
func (w *introWorld) introRequestBound() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return introMaxAttempts * (w.tally.uncached + w.tally.during)
}

// runChaosIntrospection runs the introspector scenario once; call it in a
// bubble.
func runChaosIntrospection(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	start := time.Now()
	srv := serviceusertest.NewServer(serviceusertest.InProcess())
	defer srv.Close()
	srv.SetTokenLifetime(introLifetime)

	chaos := newChaosTransport(srv.Transport(), seed, chaosFailShare, "")
	outage := drawOutage(rng, start)
	chaos.addOutage(outage)
	rec := &introRecorder{next: chaos}

	w := &introWorld{srv: srv, app: srv.NewApplication(), rec: rec, tokens: map[string]*introToken{},
		current: make([]string, introUsers), previous: make([]string, introUsers), counts: map[int]int{}, outage: outage}
	for range introUsers {
		kf, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		w.users = append(w.users, kf)
	}
	for u := range introUsers {
		w.mint(u, true)
		w.mint(u, false)
	}
	for range introUnknown {
		b := make([]byte, 78) // 104 base64url characters, as ZITADEL's tokens
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		w.unknown = append(w.unknown, base64.RawURLEncoding.EncodeToString(b))
	}

	appKey, err := serviceuser.ParseKeyFile(w.app.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := introspection.Config{Key: appKey, Issuer: srv.Issuer(), IntrospectionURL: srv.IntrospectionURL(),
		ProjectID: w.app.ProjectID, HTTPClient: &http.Client{Transport: rec}, Hooks: introProbeHooks()}
	in, err := cfg.NewIntrospector(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	handler := in.Middleware(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if _, ok := introspection.FromContext(r.Context()); !ok {
			t.Error("let through without a result")
		}
	}))

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range introCallers {
		crng := rand.New(rand.NewPCG(seed, uint64(200+i)))
		wg.Go(func() { introCaller(w, handler, crng, stop) })
	}
	wg.Go(func() { introDirector(w, rng, start, stop) })
	time.Sleep(chaosDuration)
	close(stop)
	wg.Wait()

	asks, outside := len(rec.asks), 0
	for _, a := range rec.asks {
		if !a.at.After(outage.from) || !a.at.Before(outage.to) {
			outside++
		}
	}
	for _, v := range w.all() {
		t.Errorf("seed %d: %s", seed, v)
	}
	if bound := w.introRequestBound(); outside > bound {
		t.Errorf("seed %d: %d introspection requests outside the outage, more than %d", seed, outside, bound)
	}
	// Single flight: never more requests than API requests.
	if calls := w.counts[http.StatusOK] + w.counts[http.StatusUnauthorized] + w.counts[http.StatusServiceUnavailable]; asks > calls {
		t.Errorf("seed %d: %d introspection requests for %d API requests", seed, asks, calls)
	}
	if w.counts[http.StatusOK] == 0 || w.counts[http.StatusUnauthorized] == 0 || w.counts[http.StatusServiceUnavailable] == 0 {
		t.Errorf("seed %d: answers %v: the scenario did not reach every kind of answer", seed, w.counts)
	}
	w.goals(t, seed, asks-outside)
	t.Logf("seed %d: API requests by status %v; %d introspection requests, %d outside the %v outage (bound %d); %s; %s",
		seed, w.counts, asks, outside, chaosOutage, w.introRequestBound(), w.tally, chaos.modes())
}

// introCaller sends an API request with a drawn token every 0.5 to 1.5 s.
func introCaller(w *introWorld, handler http.Handler, rng *rand.Rand, stop <-chan struct{}) {
	timer := time.NewTimer(time.Duration(rng.Int64N(int64(time.Second))))
	defer timer.Stop()
	for {
		select {
		case <-stop:
			return
		case <-timer.C:
		}
		tok := w.pick(rng)
		start, probe := time.Now(), &introProbe{}
		ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), introProbeKey{}, probe), introDeadline)
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rw := httptest.NewRecorder()
		handler.ServeHTTP(rw, req)
		cancel()
		w.check(tok, rw.Code, start, time.Now(), probe)
		timer.Reset(time.Second/2 + time.Duration(rng.Int64N(int64(time.Second))))
	}
}

// introDirector renews each user's token every introRenew and revokes one
// user's current token every introRevoke, until stop.
func introDirector(w *introWorld, rng *rand.Rand, start time.Time, stop <-chan struct{}) {
	renew := time.NewTicker(introRenew)
	defer renew.Stop()
	revoke := time.NewTicker(introRevoke)
	defer revoke.Stop()
	for {
		select {
		case <-stop:
			return
		case <-renew.C:
			for u := range introUsers {
				w.mint(u, true)
			}
			w.mint(rng.IntN(introUsers), false)
		case <-revoke.C:
			w.revoke(rng.IntN(introUsers))
		}
	}
}
