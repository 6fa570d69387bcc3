package conformance

// The introspector under chaos: one simulated hour of API requests through
// introspection's Middleware, whose introspection requests go through a
// chaosTransport that fails half of them (and all of them during a
// 6-minute outage). Tokens come from the fake without chaos: active ones
// for five users, renewed every 4 minutes; tokens without the API's
// audience; tokens revoked while cached; and strings the fake never issued.

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

const (
	introCallers   = 20
	introUsers     = 5
	introLifetime  = 5 * time.Minute
	introRenew     = 4 * time.Minute
	introRevoke    = 10 * time.Minute // a user's current token is revoked this often
	introUnknown   = 10               // strings the fake never issued
	introDeadline  = 15 * time.Second // of each API request
	introFailAfter = serviceuser.DefaultTimeout + chaosMaxLatency
	introPath      = "/oauth/v2/introspect"
)

// introToken is what the fake knows of a token.
type introToken struct {
	audience  bool      // issued with the API's audience: active until exp or revocation
	expires   time.Time // zero for a string the fake never issued
	revokedAt time.Time
}

// introAsk is an introspection request that left the recorder, or a
// discovery request (with no token).
type introAsk struct {
	at      time.Time
	token   string
	answer  bool // the fake's answer came back whole
	active  bool
	limited bool // a 429 came back
	hung    bool // no answer within the request timeout
}

// introRecorder notes every introspection request and its outcome.
type introRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	asks []introAsk
}

func (r *introRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	ask := introAsk{at: time.Now()}
	if req.Body != nil {
		body, _ := io.ReadAll(req.Body)
		req.Body.Close()
		form, _ := url.ParseQuery(string(body))
		ask.token = form.Get("token")
		req.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	resp, err := r.next.RoundTrip(req)
	ask.limited = err == nil && resp.StatusCode == http.StatusTooManyRequests
	ask.hung = time.Since(ask.at) >= serviceuser.DefaultTimeout
	if err == nil && resp.StatusCode == http.StatusOK {
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		if rerr == nil && strings.HasSuffix(strings.TrimSpace(string(body)), "}") {
			ask.answer, ask.active = true, strings.Contains(string(body), `"active":true`)
		}
	}
	r.mu.Lock()
	r.asks = append(r.asks, ask)
	r.mu.Unlock()
	return resp, err
}

// introWorld is the fake, its tokens and the checks of every answer.
type introWorld struct {
	srv   *serviceusertest.Server
	app   *serviceusertest.Application
	rec   *introRecorder
	users []*serviceuser.KeyFile

	mu         sync.Mutex
	tokens     map[string]*introToken
	current    []string // each user's newest active token
	previous   []string // and the one before
	revoked    []string
	noAudience []string
	unknown    []string
	counts     map[int]int
	chaosViolations
	outage chaosWindow
	tally  introTally
}

// mint asks the fake, without chaos, for a token of user u.
func (w *introWorld) mint(u int, audience bool) string {
	scopes := []string{"openid"}
	if audience {
		scopes = append(scopes, w.app.AudienceScope())
	}
	cfg := serviceuser.Config{Key: w.users[u], Issuer: w.srv.Issuer(), HTTPClient: w.srv.Client(), Scopes: scopes}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		panic(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tokens[tok.AccessToken] = &introToken{audience: audience, expires: time.Now().Add(introLifetime)}
	if audience {
		w.previous[u], w.current[u] = w.current[u], tok.AccessToken
	} else {
		w.noAudience = append(w.noAudience, tok.AccessToken)
	}
	return tok.AccessToken
}

// revoke revokes user u's current token and replaces it.
func (w *introWorld) revoke(u int) {
	w.mu.Lock()
	tok := w.current[u]
	w.tokens[tok].revokedAt = time.Now()
	w.revoked = append(w.revoked, tok)
	w.mu.Unlock()
	w.srv.RevokeToken(tok)
	w.mint(u, true)
}

// pick draws the token of one API request.
func (w *introWorld) pick(rng *rand.Rand) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	u := rng.IntN(introUsers)
	switch p := rng.Float64(); {
	case p < 0.1 && w.previous[u] != "":
		return w.previous[u]
	case p < 0.2 && len(w.revoked) > 0:
		return w.revoked[rng.IntN(len(w.revoked))]
	case p < 0.25:
		return w.noAudience[rng.IntN(len(w.noAudience))]
	case p < 0.3:
		return w.unknown[rng.IntN(len(w.unknown))]
	}
	return w.current[u]
}

// check judges the answer status to a request with tok that started at
// start and ended at now, probe telling whether it was answered from the
// cache.
func (w *introWorld) check(tok string, status int, start, now time.Time, probe *introProbe) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counts[status]++
	w.count(tok, status, start, now, probe)
	info := w.tokens[tok]
	active := info != nil && info.audience && now.Before(info.expires)
	revoked := info != nil && !info.revokedAt.IsZero()
	switch status {
	case http.StatusOK:
		switch {
		case !active:
			w.violate("at %v an inactive or expired token was let through", now)
		case revoked && !now.Before(info.revokedAt.Add(introspection.DefaultCacheTTL)):
			w.violate("at %v a token revoked at %v was let through", now, info.revokedAt)
		}
	case http.StatusUnauthorized:
		if active && !revoked {
			w.violate("at %v an active token was refused", now)
		}
	case http.StatusServiceUnavailable:
		switch last, found, failed := w.rec.lastAsk(tok, now); {
		case !found:
			w.violate("at %v 503 without an introspection of the token", now)
		case !failed:
			w.violate("at %v 503 although the last introspection of the token (at %v) was answered", now, last)
		}
		if ok := w.rec.answeredSince(tok, now.Add(-introspection.DefaultCacheTTL+time.Second), true); ok && active && !revoked {
			w.violate("at %v 503 although an active answer for the token is less than a cache TTL old", now)
		}
	default:
		w.violate("at %v status %d", now, status)
	}
}

// lastAsk returns when the newest introspection of tok, or failed discovery,
// started before now (within introFailAfter and an API request's deadline),
// whether there was one, and whether it failed.
func (r *introRecorder) lastAsk(tok string, now time.Time) (at time.Time, found, failed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.asks {
		if (a.token == tok || a.token == "" && !a.answer) && !a.at.After(now) && a.at.After(now.Add(-introFailAfter-introDeadline)) && !a.at.Before(at) {
			at, found, failed = a.at, true, !a.answer
		}
	}
	return at, found, failed
}

// answeredSince reports whether an introspection of tok started at or after
// since was answered (with active as given).
func (r *introRecorder) answeredSince(tok string, since time.Time, active bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.asks {
		if a.token == tok && !a.at.Before(since) && a.answer && a.active == active {
			return true
		}
	}
	return false
}

// TestChaosIntrospection runs one simulated hour per seed (-chaosseeds) and
// checks every answer of the middleware, and the number of introspection
// requests.
func TestChaosIntrospection(t *testing.T) {
	for i := range *chaosSeeds {
		seed := *chaosFirstSeed + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { runChaosIntrospection(t, seed) })
		})
	}
}
