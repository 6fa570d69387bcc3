package conformance

// A simulation harness: token sources talk to an in-process token endpoint
// through an http.RoundTripper that calls its http.Handler directly, inside a
// testing/synctest bubble, so that hours of simulated time run in seconds and
// every request is counted by the second of simulated time it arrived in.
// The client_credentials grant needs no signing, which keeps large fleets
// cheap.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-serviceuser/serviceuser"
)

// simTokenURL is where the simulated sources send their requests; loopback,
// so that plain http may carry the secret.
const (
	simIssuer   = "http://localhost"
	simTokenURL = simIssuer + "/oauth/v2/token"
)

// simLatency is how long the simulated token endpoint takes to answer.
const simLatency = 10 * time.Millisecond

// simMode is how the simulated endpoint answers.
type simMode int

const (
	simUp          simMode = iota // a token, within the rate limit
	simUnavailable                // 503, as a load balancer in front of a down server
)

// simEndpoint is a token endpoint. It issues tokens that live lifetime,
// answers 429 with Retry-After: 1 beyond perSecond requests in one second of
// simulated time (0: no limit), and 503 while down. It records how many
// requests arrived in each second since start.
type simEndpoint struct {
	lifetime  time.Duration
	perSecond int
	start     time.Time

	mu       sync.Mutex
	mode     simMode
	arrivals []time.Duration // when each request arrived, since start
	second   int             // the second since start that inSecond counts
	inSecond int             // requests that arrived in that second
	issued   []time.Duration // when each token was sent, since start
	limited  int             // 429 answers
}

// newSimEndpoint returns an endpoint whose clock starts now; call it inside
// the bubble.
func newSimEndpoint(lifetime time.Duration, perSecond int) *simEndpoint {
	return &simEndpoint{lifetime: lifetime, perSecond: perSecond, start: time.Now()}
}

// setMode switches how the endpoint answers from now on.
func (e *simEndpoint) setMode(m simMode) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.mode = m
}

// ServeHTTP answers after simLatency, or not at all when the request's
// context ends first.
func (e *simEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status := e.admit(time.Now())
	select {
	case <-time.After(simLatency):
	case <-r.Context().Done():
		return
	}
	switch status {
	case http.StatusOK:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"sim-token","token_type":"Bearer","expires_in":%d}`, int(e.lifetime/time.Second))
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many requests", status)
	default:
		http.Error(w, "service unavailable", status)
	}
}

// admit counts a request arriving at now and decides its answer.
func (e *simEndpoint) admit(now time.Time) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	at := now.Sub(e.start)
	e.arrivals = append(e.arrivals, at)
	if sec := int(at / time.Second); sec != e.second {
		e.second, e.inSecond = sec, 0
	}
	e.inSecond++
	switch {
	case e.mode == simUnavailable:
		return http.StatusServiceUnavailable
	case e.perSecond > 0 && e.inSecond > e.perSecond:
		e.limited++
		return http.StatusTooManyRequests
	}
	e.issued = append(e.issued, at+simLatency)
	return http.StatusOK
}

// perSecondCounts returns the requests that arrived in each second of
// simulated time since start, covering at least seconds seconds.
func (e *simEndpoint) perSecondCounts(seconds int) []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]int, seconds)
	for _, at := range e.arrivals {
		sec := int(at / time.Second)
		for len(out) <= sec {
			out = append(out, 0)
		}
		out[sec]++
	}
	return out
}

// requestsBetween counts the requests that arrived in [from, to).
func (e *simEndpoint) requestsBetween(from, to time.Time) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, at := range e.arrivals {
		if t := e.start.Add(at); !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}

// firstIssuedSince returns when the first token sent at or after t left the
// endpoint, and whether there was one.
func (e *simEndpoint) firstIssuedSince(t time.Time) (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, at := range e.issued {
		if sent := e.start.Add(at); !sent.Before(t) {
			return sent, true
		}
	}
	return time.Time{}, false
}

// simTransport serves every request with handler, in the caller's goroutine:
// no network, so it works inside a synctest bubble.
type simTransport struct{ handler http.Handler }

// RoundTrip runs the handler and returns what it wrote; a request whose
// context ended gets the context's error, as from a real transport.
func (t simTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close() // as every RoundTripper must
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	t.handler.ServeHTTP(rec, req)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// simSource returns a token source that fetches from e in-process; ctx must
// belong to the bubble. Close it before the bubble ends.
func simSource(ctx context.Context, e *simEndpoint) *serviceuser.TokenSource {
	cfg := serviceuser.ClientCredentialsConfig{
		ClientID:     "sim-machine-user",
		ClientSecret: serviceuser.Secret("sim-secret"),
		Issuer:       simIssuer,
		TokenURL:     simTokenURL,
		HTTPClient:   &http.Client{Transport: simTransport{handler: e}},
	}
	return cfg.TokenSource(ctx)
}

// simCall asks ts for a token once, reporting success and a panic.
func simCall(ts *serviceuser.TokenSource) (ok, panicked bool) {
	defer func() {
		if recover() != nil {
			ok, panicked = false, true
		}
	}()
	_, err := ts.TokenContext(context.Background())
	return err == nil, false
}

// simBubble runs f once in a synctest bubble on behalf of b. A bubble needs a
// *testing.T, which a benchmark has not; testing.RunTests makes one. It runs
// the test once per -cpu value and -count, so f runs only the first time,
// and GOMAXPROCS, which it changes, is restored.
func simBubble(b *testing.B, f func(t *testing.T)) {
	b.Helper()
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	ran := false
	test := testing.InternalTest{Name: b.Name(), F: func(t *testing.T) {
		if ran {
			t.SkipNow()
		}
		ran = true
		synctest.Test(t, f)
	}}
	matchAll := func(string, string) (bool, error) { return true, nil }
	if !testing.RunTests(matchAll, []testing.InternalTest{test}) {
		b.Fatal("simulation failed")
	}
}

// simTable is a markdown table built row by row.
type simTable struct {
	sb strings.Builder
}

func newSimTable(header ...string) *simTable {
	t := &simTable{}
	t.row(header...)
	t.sb.WriteString("|" + strings.Repeat(" --- |", len(header)) + "\n")
	return t
}

func (t *simTable) row(cells ...string) {
	t.sb.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

func (t *simTable) String() string { return "\n" + t.sb.String() }

// print writes the table to standard output once b's sub-benchmarks are
// done: a parent benchmark's log is shown only with -v.
func (t *simTable) print(b *testing.B) {
	fmt.Fprintf(os.Stdout, "\n%s%s", b.Name(), t)
}
