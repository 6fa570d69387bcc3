package serviceuser

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// minInvalidateAge: a token younger than this is not dropped, so that an API
// answering 401 to every request cannot turn each into a token request.
const minInvalidateAge = 10 * time.Second

// errExpiredOnArrival reports a token whose lifetime ended before it arrived;
// treating it as a failure puts the source into backoff instead of a loop.
var errExpiredOnArrival = errors.New("serviceuser: token expired before it arrived (expires_in shorter than the request took)")

// errNoToken reports a fetch that returned neither a token nor an error.
var errNoToken = errors.New("serviceuser: token request returned no token and no error")

// errZeroTokenSource reports a TokenSource not made by a config.
var errZeroTokenSource = errors.New("serviceuser: zero TokenSource; make one with Config.TokenSource")

// fetchFunc obtains a new token from the server.
type fetchFunc func(ctx context.Context) (*oauth2.Token, error)

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
// than while one is served (see the retry schedule in backoff.go). No
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
	snap  atomic.Pointer[snapshot]
	fetch fetchFunc

	bg        context.Context // bounds background refreshes; done after Close
	ahead     context.Context // of every refresh ahead of expiry (see newRefreshContext)
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeIdle func()    // closes the library's own transport's connections; may be nil
	api       apiClient // what Client sends API requests with
	timing    timing    // when tokens are refreshed and stop being served
	// waitBudget bounds how long a refresh keeps retrying within its
	// callers' wait (the config's Timeout); 0 means DefaultTimeout.
	waitBudget time.Duration
	// credentialChanged, when set, reports a watched credential file that
	// holds a credential the last request did not use: it ends the backoff.
	credentialChanged func() bool

	mu       sync.Mutex // guards the fields below
	closed   bool       // set by Close: no refresh starts any more
	flight   *flight    // the refresh in progress, or nil
	failures int        // consecutive failed token requests
	// patientAt and urgentAt end the backoff: no refresh ahead of expiry
	// starts before patientAt, none for callers without a token before urgentAt.
	patientAt, urgentAt time.Time
	hadToken            bool  // a token was obtained: the credential is not brand new
	lastErr             error // the last request's error; nil after a success
}

// snapshot is an immutable view of the cached token.
type snapshot struct {
	token     *oauth2.Token
	fetchedAt time.Time // when the token arrived
	refreshAt time.Time // from here on, refresh in the background
	expiresAt time.Time // from here on, the token is not served
}

// flight is one refresh, shared by everyone who waits for it.
type flight struct {
	ctx     context.Context // its token requests' and its hooks' (see newRefreshContext)
	done    chan struct{}
	token   *oauth2.Token
	err     error
	waiters int // callers waiting for it; guarded by TokenSource.mu
}

// newTokenSource returns a source whose refreshes see ctx's values but not
// its cancellation: the source lives until Close.
func newTokenSource(ctx context.Context, fetch fetchFunc, api apiClient) *TokenSource {
	if ctx == nil { // tolerated by x/oauth2, so here too
		ctx = context.Background()
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ts := &TokenSource{fetch: fetch, bg: bg, cancel: cancel, api: api}
	ts.ahead = &refreshContext{Context: bg, ts: ts} // a refresh ahead of expiry: no caller waits
	return ts
}

// Token returns a valid token, waiting for a refresh only when none is cached.
func (ts *TokenSource) Token() (*oauth2.Token, error) {
	return ts.TokenContext(context.Background())
}

// TokenContext is Token with ctx bounding the caller's wait. Cancelling ctx
// returns at once; the shared refresh goes on for other callers.
func (ts *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if s := ts.snap.Load(); s != nil {
		now := time.Now()
		if now.Before(s.refreshAt) {
			return s.token, nil
		}
		if now.Before(s.expiresAt) {
			ts.refreshAhead(s)
			return s.token, nil
		}
	}
	return ts.wait(ctx)
}

// refreshAhead starts a background refresh of stale unless one runs, backoff
// forbids it, or stale is no longer the cached token (a refresh ended since
// the caller read it). It never blocks: if another caller holds the lock,
// that caller is starting or ending a refresh, and the next stale read tries
// again.
func (ts *TokenSource) refreshAhead(stale *snapshot) {
	if ts.mu.TryLock() {
		if ts.snap.Load() == stale {
			ts.startLocked(time.Now(), nil)
		}
		ts.mu.Unlock()
	}
}

// wait returns a token once the shared refresh ends, or the current backoff
// window's error without causing a request.
func (ts *TokenSource) wait(ctx context.Context) (*oauth2.Token, error) {
	if ts.fetch == nil {
		return nil, errZeroTokenSource
	}
	ts.mu.Lock()
	now := time.Now()
	if s := ts.snap.Load(); s != nil && now.Before(s.expiresAt) {
		ts.mu.Unlock() // refreshed while this caller took the lock
		return s.token, nil
	}
	f := ts.startLocked(now, ctx)
	err, closed := ts.lastErr, ts.closedLocked()
	if f != nil {
		f.waiters++
	}
	ts.mu.Unlock()
	if f == nil {
		if closed {
			return nil, ErrClosed
		}
		return nil, err
	}
	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		ts.mu.Lock()
		f.waiters-- // with none left, the refresh stops retrying quickly
		ts.mu.Unlock()
		return nil, ctx.Err()
	}
}

// startLocked returns the refresh in flight, starting one if the source is
// open and out of backoff; otherwise nil. waiter is the context of a caller
// that has no valid token and waits: the shorter backoff applies, and a
// refresh it starts carries its values. It is nil for a refresh ahead of
// expiry.
func (ts *TokenSource) startLocked(now time.Time, waiter context.Context) *flight {
	if ts.flight != nil {
		return ts.flight
	}
	notBefore := ts.patientAt
	if waiter != nil {
		notBefore = ts.urgentAt
	}
	if ts.closedLocked() || now.Before(notBefore) && !ts.newCredentialLocked() {
		return nil
	}
	f := &flight{ctx: ts.ahead, done: make(chan struct{})}
	if waiter != nil {
		f.ctx = ts.newRefreshContext(waiter)
	}
	ts.flight = f
	ts.wg.Add(1)
	go ts.run(f)
	return f
}

// newCredentialLocked reports whether the credential changed since the last
// request; the new one starts with no failures counted, so that it gets the
// quick retries of a credential ZITADEL may not have projected yet.
func (ts *TokenSource) newCredentialLocked() bool {
	if ts.credentialChanged == nil || !ts.credentialChanged() {
		return false
	}
	ts.failures = 0
	return true
}

// closedLocked reports whether Close was called or the source's context ended.
func (ts *TokenSource) closedLocked() bool {
	return ts.closed || ts.bg.Err() != nil
}

// Invalidate drops tok from the cache if it is still the cached token, so
// that the next call fetches a new one; a newer token is kept, and so is a
// token fetched less than 10 s ago (a server refusing every token must not
// cause a token request per API call). Use it when a server rejects tok
// (HTTP 401) before its expiry, for example after it was revoked.
func (ts *TokenSource) Invalidate(tok *oauth2.Token) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	s := ts.snap.Load()
	if s != nil && s.token == tok && time.Since(s.fetchedAt) >= minInvalidateAge {
		ts.snap.Store(nil)
	}
}

// LastError returns the error of the last refresh, or nil if it succeeded.
// While a refresh fails, callers keep getting the still-valid token; this
// is where the failure can be seen.
func (ts *TokenSource) LastError() error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.lastErr
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
	// Setting closed under mu orders every wg.Add (made under mu by
	// startLocked) before the Wait below: no refresh starts after it.
	ts.mu.Lock()
	ts.closed = true
	ts.mu.Unlock()
	if ts.cancel != nil {
		ts.cancel()
	}
	ts.wg.Wait()
	if ts.closeIdle != nil {
		ts.closeIdle() // no refresh runs: every connection is idle
	}
	return nil
}
