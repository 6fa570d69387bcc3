package serviceuser

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/bearer"
	"github.com/go-serviceuser/serviceuser/internal/cache"
	"github.com/go-serviceuser/serviceuser/internal/redact"
	"github.com/go-serviceuser/serviceuser/internal/route"
)

// errZeroTokenSource reports a TokenSource not made by a config.
var errZeroTokenSource = errors.New("serviceuser: zero TokenSource; make one with a config's TokenSource method")

// TokenSource is a caching, self-refreshing oauth2.TokenSource. It is safe for
// concurrent use. Reading a cached token takes no lock and allocates nothing.
//
// A token is served until shortly before it expires. Ahead of that, one
// refresh runs in the background while callers keep getting the current
// token; a caller waits on the network only when no valid token exists, and
// then all waiting callers share one request. A refresh that callers wait
// for retries errors that usually heal in moments (no answer, 5xx, a
// credential ZITADEL has not projected yet) a few times within their wait,
// still one request at a time; otherwise failed refreshes are retried with
// exponential backoff, probing more often while callers have no valid token
// than while one is served (see the retry schedule in internal/cache). While
// one is served, the wait before the next request is at most a quarter of
// the time that token has left, at least a second, Retry-After included,
// and a request ends halfway to the token's end, or at Timeout if that
// comes first: several requests fit before the token is dropped, a token
// with long to live is refreshed as patiently as ever. Once no valid token
// is left, a caller whose context has a deadline waits for the next request
// when it is due within that deadline and 10 s, instead of taking the last
// error (callers without a deadline, after a Permanent error or of a source
// that never had a token get it at once); it adds no request. No
// goroutine runs while no refresh is in flight;
// Close stops a refresh that is running; cancelling the context the source
// was made with does not (that context only supplies values). A refresh
// that a caller starts and waits for is sent with that caller's context's
// values too (a trace span, say), never with its deadline or cancellation,
// as Introspect does; its hooks get the same context (see Hooks).
//
// A token whose response has no expires_in (or 0) is taken to last 15
// minutes, and a longer expires_in than a week is cut to a week: a token is
// always refreshed, never kept forever.
//
// A token response is taken only when its access_token is an RFC 6750
// b64token (letters, digits and -._~+/, then = padding), the form an
// Authorization header can carry, as ZITADEL's tokens are; any other is
// refused as a malformed response (a [*TokenError]) and retried like a
// failed request, never sent.
//
// A panic during a refresh, such as one in the RoundTripper of
// Config.HTTPClient, is recovered and becomes that refresh's error, returned
// to the callers waiting for it and by LastError. The error names the panic
// value's type but not its text, which may hold the assertion or a secret
// (the runtime's own errors, such as a nil map write, keep their text).
type TokenSource struct {
	cache     *cache.Cache // nil for a TokenSource not made by a config
	closeIdle func()       // closes the library's own transport's connections; may be nil
	api       apiClient    // what Client sends API requests with
}

// apiClient is what a token source's Client sends API requests with.
type apiClient struct {
	base     http.RoundTripper // nil: http.DefaultTransport
	orgID    string
	rejected error        // set for tokens that cannot be renewed: a PAT's 401 is final (ErrPATRejected)
	zitadel  *route.Route // the config's route to ZITADEL, or nil; base is behind it
	hooks    *hookSet
}

// sourceOptions are what a config gives its token source beside the fetch.
type sourceOptions struct {
	api       apiClient
	timing    cache.Timing
	budget    time.Duration // how long a refresh retries quickly within its callers' wait
	changed   func() bool   // reports a credential the last request did not use; may be nil
	closeIdle func()
}

// newTokenSource returns a source around fetch whose refreshes see ctx's
// values but not its cancellation: the source lives until Close.
func newTokenSource(ctx context.Context, fetch func(context.Context) (*oauth2.Token, error), o sourceOptions) *TokenSource {
	ts := &TokenSource{closeIdle: o.closeIdle, api: o.api}
	start, done := refreshHooks(o.api.hooks)
	ts.cache = cache.New(ctx, fetch, cache.Config{
		Classify: classify, Closed: closedWith, Changed: o.changed,
		OnStart: start, OnDone: done, Timing: o.timing, WaitBudget: o.budget,
		Key: sourceKey{}, Self: ts, // SourceFromContext's answer
	})
	return ts
}

// Token returns a valid token, waiting for a refresh only when none is cached.
func (ts *TokenSource) Token() (*oauth2.Token, error) {
	return ts.TokenContext(context.Background())
}

// TokenContext is Token with ctx bounding the caller's wait. Cancelling ctx
// returns at once; the shared refresh goes on for other callers.
func (ts *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if ts.cache == nil {
		return nil, errZeroTokenSource
	}
	return ts.cache.Token(ctx)
}

// Invalidate drops tok from the cache if it is still the cached token, so
// that the next call fetches a new one; a newer token is kept, and so is a
// token fetched less than 10 s ago (a server refusing every token must not
// cause a token request per API call). Use it when a server rejects tok
// (HTTP 401) before its expiry, for example after it was revoked.
func (ts *TokenSource) Invalidate(tok *oauth2.Token) {
	if ts.cache != nil {
		ts.cache.Invalidate(tok)
	}
}

// LastError returns the error of the last refresh, or nil if it succeeded.
// While a refresh fails, callers keep getting the still-valid token; this
// is where the failure can be seen.
func (ts *TokenSource) LastError() error {
	if ts.cache == nil {
		return nil
	}
	return ts.cache.LastError()
}

// Format describes the source without its token, for every verb.
func (ts *TokenSource) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "serviceuser.TokenSource{token: "+redacted+"}")
}

// Close stops a refresh in flight and waits until no goroutine of the source
// is left, then closes the keep-alive connections of the transport the
// library made for the source (never those of a Config.HTTPClient).
// Afterwards a still-valid cached token is served, and every other call
// fails with ErrClosed. Close is idempotent.
func (ts *TokenSource) Close() error {
	if ts.cache != nil {
		ts.cache.Close()
	}
	if ts.closeIdle != nil {
		ts.closeIdle() // no refresh runs: every connection is idle
	}
	return nil
}

// sourceKey is the context key under which hooks find the token source
// whose work they observe: a refresh's context answers it, and a bearer
// transport sets it for a rejected token.
type sourceKey = bearer.SourceKey

// SourceFromContext returns the token source whose work a callback of
// [hooks.Hooks] observes, from the context the callback got: the same
// *TokenSource for all of that source's events. It is nil for an
// introspector's events, for a bearer.Transport of your own, and for a nil
// ctx.
func SourceFromContext(ctx context.Context) *TokenSource {
	if ctx == nil {
		return nil
	}
	ts, _ := ctx.Value(sourceKey{}).(*TokenSource)
	return ts
}
