package conformance

// A chaos transport: an http.RoundTripper in front of the fake that fails a
// share of all requests in seven ways, drawn from a seeded generator, and
// fails every request during outages. It records each token the fake issued
// through it, with the moment the request was sent, so that the goals can
// tell a valid token from an expired one on the true clock, whatever clock
// offset the fake shows.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// chaosMode is how the transport treats one request.
type chaosMode int

const (
	chaosPass     chaosMode = iota // forwarded untouched
	chaosLatency                   // forwarded after up to chaosMaxLatency
	chaosInternal                  // ZITADEL's 500 Errors.Internal
	chaosLimited                   // 429 with Retry-After up to chaosMaxRetryAfter
	chaosHang                      // no answer until the request's deadline
	chaosReset                     // forwarded, then the connection reset before the answer
	chaosCutBody                   // the answer's body cut mid-way
	chaosHTML503                   // a proxy's HTML 503 page
	chaosRefused                   // nothing listens (outages only)
	chaosModes                     // the number of modes
)

var chaosModeNames = [chaosModes]string{"pass", "latency", "500", "429", "hang", "reset", "cut body", "html 503", "refused"}

func (m chaosMode) String() string { return chaosModeNames[m] }

const (
	chaosMaxLatency    = 3 * time.Second
	chaosMaxRetryAfter = 29 * time.Second
	chaosHTMLPage      = "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>\n"
)

// outageModes are the answers of a total outage: the server is down, so its
// port refuses connections or the proxy in front of it answers 503 (without
// Retry-After: a rate limit is no outage). Requests that hang, and whose
// single flight therefore outlasts the outage by up to the request timeout,
// are part of the chaos around it.
var outageModes = []chaosMode{chaosRefused, chaosHTML503}

// chaosIssued is a token the fake issued through the transport.
type chaosIssued struct {
	sent    time.Time     // when its request entered the transport
	got     time.Time     // when its answer left the transport
	expires time.Time     // sent plus expires_in: the latest a client may count on
	life    time.Duration // expires_in
}

// chaosTransport fails failShare of the requests it forwards to next, and
// all of them during outages. Safe for concurrent use.
type chaosTransport struct {
	next      http.RoundTripper
	failShare float64
	// tokenPath is the path of the requests that count as token requests.
	tokenPath string
	trace     *chaosTrace // may be nil

	mu      sync.Mutex
	rng     *rand.Rand
	outages []chaosWindow
	calm    []chaosWindow // no chaos: every request passes
	byMode  [chaosModes]int
	tokens  map[string]chaosIssued
	arrived []chaosRequest // token requests
	others  int            // requests to other paths
}

// chaosWindow is an interval of the true clock.
type chaosWindow struct{ from, to time.Time }

func (w chaosWindow) holds(t time.Time) bool { return !t.Before(w.from) && t.Before(w.to) }

func newChaosTransport(next http.RoundTripper, seed uint64, failShare float64, tokenPath string) *chaosTransport {
	return &chaosTransport{next: next, failShare: failShare, tokenPath: tokenPath,
		rng: rand.New(rand.NewPCG(seed, 0x63686173)), tokens: map[string]chaosIssued{}}
}

// addOutage makes every request in w fail.
func (c *chaosTransport) addOutage(w chaosWindow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.outages = append(c.outages, w)
}

// addCalm lets every request in w pass untouched.
func (c *chaosTransport) addCalm(w chaosWindow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calm = append(c.calm, w)
}

// draw decides the fate of a request arriving at now, and records it.
func (c *chaosTransport) draw(now time.Time, token bool) (m chaosMode, wait time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() {
		if token {
			c.arrived = append(c.arrived, chaosRequest{at: now, mode: m, wait: wait})
		} else {
			c.others++
		}
	}()
	down, calm := false, false
	for _, w := range c.outages {
		down = down || w.holds(now)
	}
	for _, w := range c.calm {
		calm = calm || w.holds(now)
	}
	switch {
	case calm:
	case down:
		m = outageModes[c.rng.IntN(len(outageModes))]
	case c.rng.Float64() < c.failShare:
		m = chaosMode(int(chaosLatency) + c.rng.IntN(int(chaosRefused-chaosLatency)))
	}
	switch m {
	case chaosLatency:
		wait = time.Duration(c.rng.Int64N(int64(chaosMaxLatency))) + 1
	case chaosLimited:
		wait = time.Duration(1+c.rng.IntN(int(chaosMaxRetryAfter/time.Second))) * time.Second
	}
	c.byMode[m]++
	return m, wait
}

// RoundTrip forwards req, or fails it as drawn.
func (c *chaosTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	token := req.URL.Path == c.tokenPath
	m, wait := c.draw(start, token)
	if token {
		c.trace.add("request: %v %v", m, wait)
	}
	ctx := req.Context()
	switch m {
	case chaosLatency:
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			closeBody(req)
			return nil, ctx.Err()
		}
	case chaosHang:
		closeBody(req)
		<-ctx.Done()
		return nil, ctx.Err()
	case chaosRefused:
		closeBody(req)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	case chaosInternal:
		closeBody(req)
		return chaosAnswer(req, http.StatusInternalServerError, "application/json",
			`{"error":"server_error","error_description":"Errors.Internal"}`, nil), nil
	case chaosLimited:
		closeBody(req)
		h := http.Header{"Retry-After": {strconv.Itoa(int(wait / time.Second))}}
		return chaosAnswer(req, http.StatusTooManyRequests, "text/plain", "rate limit exceeded\n", h), nil
	case chaosHTML503:
		closeBody(req)
		return chaosAnswer(req, http.StatusServiceUnavailable, "text/html", chaosHTMLPage, nil), nil
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	switch m {
	case chaosReset: // the server did the work; its answer is lost
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	case chaosCutBody:
		resp.Body = &cutBody{r: bytes.NewReader(body[:len(body)/2])}
		resp.ContentLength = int64(len(body))
		return resp, nil
	}
	if token && resp.StatusCode == http.StatusOK {
		c.record(start, body)
	}
	if token {
		c.trace.answered(resp.StatusCode)
		if resp.StatusCode != http.StatusOK {
			c.noteRefusal(start, fmt.Sprintf("%d %.80s", resp.StatusCode, body))
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// record notes the token in body, sent at start.
func (c *chaosTransport) record(start time.Time, body []byte) {
	var t struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if json.Unmarshal(body, &t) != nil || t.AccessToken == "" {
		return
	}
	life := time.Duration(t.ExpiresIn) * time.Second
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens[t.AccessToken] = chaosIssued{sent: start, got: time.Now(), expires: start.Add(life), life: life}
}

// issued returns what the transport knows of the token, and whether the fake
// issued it through the transport.
func (c *chaosTransport) issued(token string) (chaosIssued, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tokens[token]
	return t, ok
}

// chaosRequest is a token request the transport saw.
type chaosRequest struct {
	at   time.Time
	mode chaosMode
	wait time.Duration // latency or Retry-After
	// refused: the fake's answer when it passed and was not a token
	refused string
}

// noteRefusal notes the fake's answer to the token request that arrived at
// start, when it was not a token.
func (c *chaosTransport) noteRefusal(start time.Time, answer string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.arrived) - 1; i >= 0; i-- {
		if c.arrived[i].at.Equal(start) {
			c.arrived[i].refused = answer
			return
		}
	}
}

// tokenRequests returns the token requests, in the order they arrived.
func (c *chaosTransport) tokenRequests() []chaosRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]chaosRequest(nil), c.arrived...)
}

// firstGotAfter returns when the first token answered at or after t left
// the transport, and whether one did.
func (c *chaosTransport) firstGotAfter(t time.Time) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first time.Time
	for _, it := range c.tokens {
		if !it.got.Before(t) && (first.IsZero() || it.got.Before(first)) {
			first = it.got
		}
	}
	return first, !first.IsZero()
}

// modes describes how many requests met each mode.
func (c *chaosTransport) modes() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for m, n := range c.byMode {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%v %d", chaosMode(m), n))
		}
	}
	return strings.Join(parts, ", ")
}
