package introspection

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/internal/answer"
	"github.com/go-serviceuser/serviceuser/internal/contain"
	"github.com/go-serviceuser/serviceuser/internal/discovery"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// Introspector checks access tokens at ZITADEL's introspection endpoint, or
// JWT access tokens against ZITADEL's key set (see Config.Mode). It
// caches results (see Config.CacheTTL), makes one request per token
// however many requests carry it at once, and at most
// Config.MaxConcurrentIntrospections requests at a time. It is safe for
// concurrent use.
type Introspector struct {
	call      *httpcall.Caller
	project   string // Config.ProjectID: whose roles Results carry
	endpoints func(context.Context) (*discovery.Endpoints, error)
	assertion *assertions
	url       string
	ttl       time.Duration
	hooks     *hooks.Hooks
	mode      Mode

	// jwt verifies JWT access tokens in the JWT modes (nil otherwise), whose
	// Results verified keeps; strict is AlwaysIntrospect's Introspector.
	jwt      *jwtCheck
	verified *lru
	strict   *Introspector

	mu sync.Mutex
	// active and inactive keep answers apart, so that inactive ones, which
	// anyone can make by sending junk, never take the room of active ones.
	active, inactive *lru
	inFlight         map[[32]byte]*call
	// slots holds a token for each request in flight: at most
	// Config.MaxConcurrentIntrospections of them.
	slots chan struct{}
	// health decides whether a failed request may be sent again (see
	// breaker); shared, as slots are, with AlwaysIntrospect's twin.
	health *breaker
}

// Format describes the introspector without the client assertion it keeps,
// for every verb (%v, %s, %#v...).
func (in *Introspector) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "introspection.Introspector{assertion: "+redact.Marker+"}")
}

// Introspect reports whether token is active, and what ZITADEL knows of it:
// in the JWT modes (see Mode) a JWT access token is verified against
// ZITADEL's key set instead of asked about (Result.Local), and in ModeJWT
// an opaque token is inactive. An inactive token is not an error. A token of a shape ZITADEL never
// issues is inactive without a request: ZITADEL's tokens are either opaque,
// 40 to 512 characters of RFC 6750's b64token without '.' (ZITADEL's own
// are 86 or 104 base64url characters, personal access tokens included), or
// JWTs of at most 16 KiB, three base64url parts whose header is a JSON
// object with an "alg" of RS256, RS384, RS512, PS256, PS384, PS512, ES256,
// ES384, ES512 or EdDSA. A caller whose token needs a request waits for
// a free slot (see Config.MaxConcurrentIntrospections) and then for the
// answer, until its own ctx ends; a caller whose ctx has already ended
// gets ctx.Err(). A request that gets no answer (no connection, a cut or
// unreadable body, a 5xx, a 429) is sent again after a pause of 25 to
// 400 ms, or the server's Retry-After of at most 15 s, while a caller
// waits and the pause ends before its deadline: at most 6 requests per
// lookup, and one once 8 requests in a row have failed, until one is
// answered. An answer, a 400 or 401 included, is not asked again.
// Hooks.IntrospectionDone is told of every call, once.
func (in *Introspector) Introspect(ctx context.Context, token string) (*Result, error) {
	start := time.Now()
	r, hit, err := in.introspect(ctx, token, start)
	if h := in.hooks; h != nil {
		contain.Hook(h.IntrospectionDone, ctx, hooks.IntrospectionDoneInfo{CacheHit: hit, Duration: time.Since(start), Active: r != nil && r.Active, Err: err})
	}
	return r, err
}

// introspect is Introspect at now; hit is true when the answer came from
// the cache.
func (in *Introspector) introspect(ctx context.Context, token string, now time.Time) (r *Result, hit bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err // the caller is gone: no answer, and no request
	}
	if in.jwt != nil && strings.IndexByte(token, '.') >= 0 {
		return in.checkJWT(ctx, token) // which checks the shape of a token it has not seen
	}
	if !plausible(token) {
		return &Result{}, false, nil // junk costs neither a request nor room in the cache
	}
	if !in.mode.introspects() {
		return &Result{}, false, nil // ModeJWT: an opaque token is not one this API accepts
	}
	if in.assertion == nil {
		return nil, false, configError("Key", "introspection needs an API application key; ModeJWT does without one", nil)
	}
	key := sumString(token) // the cache never holds raw tokens
	found, pending, me, _ := in.lookup(ctx, key, now, false)
	if found == nil && pending == nil {
		// A new token: wait for a request slot, then look again, as another
		// caller may have asked for it meanwhile.
		select {
		case in.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		var created bool
		if found, pending, me, created = in.lookup(ctx, key, time.Now(), true); created {
			in.run(context.WithoutCancel(ctx), key, pending, token) // which frees the slot
		} else {
			<-in.slots
		}
	}
	if found != nil {
		return found.clone(), true, nil
	}
	select {
	case <-pending.done:
		return pending.result.clone(), false, pending.err
	case <-ctx.Done():
		in.leave(pending, me)
		return nil, false, ctx.Err()
	}
}

// lookup returns the answer cached for key at now, or else the request in
// flight for it, which the caller (ctx) then waits for as w; when there is
// neither and create is set, it registers a new request, which the caller
// starts. A hit makes no waiter: it costs no allocation.
func (in *Introspector) lookup(ctx context.Context, key [32]byte, now time.Time, create bool) (hit *Result, c *call, w *waiter, created bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if r, ok := in.cached(key, now); ok {
		return r, nil, nil, false
	}
	if c = in.inFlight[key]; c == nil && create {
		c = &call{done: make(chan struct{}), waiting: map[*waiter]struct{}{}, left: make(chan struct{}, 1)}
		in.inFlight[key] = c
		created = true
	}
	if c != nil {
		w = &waiter{}
		w.deadline, w.bounded = ctx.Deadline()
		c.waiting[w] = struct{}{}
	}
	return nil, c, w, created
}

// cached returns the answer kept for key, if any.
func (in *Introspector) cached(key [32]byte, now time.Time) (*Result, bool) {
	if r, ok := in.active.get(key, now); ok {
		return r, true
	}
	return in.inactive.get(key, now)
}

// store caches an active result until the token's exp, at most ttl, and an
// inactive one for inactiveTTL at most.
func (in *Introspector) store(key [32]byte, r *Result) {
	if in.ttl < 0 || r == nil {
		return
	}
	now := time.Now()
	if !r.Active {
		// A client retrying a revoked token costs one request per inactiveTTL,
		// not one per call; kept short, as a token made moments ago may not be
		// known to every ZITADEL replica yet.
		in.active.remove(key)
		in.inactive.put(key, r, now.Add(min(in.ttl, inactiveTTL)))
		return
	}
	until := now.Add(in.ttl)
	if !r.ExpiresAt.IsZero() && r.ExpiresAt.Before(until) {
		until = r.ExpiresAt
	}
	in.inactive.remove(key)
	if !now.Before(until) {
		return // exp has passed: an entry would only take the room of good ones
	}
	in.active.put(key, r, until)
}

// request asks the introspection endpoint, authenticated by a fresh client assertion.
func (in *Introspector) request(ctx context.Context, token string) (*Result, error) {
	ep, err := in.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	target := in.url
	if target == "" {
		target = ep.IntrospectionURL
	}
	if target == "" {
		return nil, configError("IntrospectionURL", "the discovery document names no introspection_endpoint; set it", nil)
	}
	assertion, err := in.assertion.get(ctx, ep.Issuer)
	if err != nil {
		return nil, err
	}
	form := url.Values{"token": {token}, "client_assertion_type": {ClientAssertionType}, "client_assertion": {assertion}}
	a, failed := answer.Post(ctx, in.call, serviceuser.EndpointIntrospection, httpcall.Form{URL: target, Values: form}, []string{assertion, token})
	if failed != nil {
		return nil, (*serviceuser.TokenError)(failed)
	}
	if a.Resp.StatusCode != http.StatusOK {
		return nil, (*serviceuser.TokenError)(a.Parse())
	}
	// An inactive answer is read as nothing else: what a server says of such
	// a token is neither handed on nor kept in the cache, where junk tokens
	// would fill the inactive room with it.
	r, err := decode(a.Body, in.project)
	if err != nil {
		return nil, (*serviceuser.TokenError)(a.Parse())
	}
	return r, nil
}
