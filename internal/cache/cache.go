// Package cache keeps one OAuth token and gets the next one: an immutable
// snapshot read without a lock, a refresh ahead of expiry, one refresh in
// flight shared by every caller, and retries on a backoff schedule.
//
// It knows only a fetch function and what it is told about errors (a
// Classify function sorts them into retry classes); it sends nothing itself
// and knows no credential, grant or endpoint. Package serviceuser's
// TokenSource is a thin exported type over a Cache.
package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// MinInvalidateAge: a token younger than this is not dropped by Invalidate,
// so that an API answering 401 to every request cannot turn each into a
// token request.
const MinInvalidateAge = 10 * time.Second

// ErrClosed is the error of a closed Cache whose Config has no Closed.
var ErrClosed = errors.New("serviceuser: token cache closed")

// errExpiredOnArrival reports a token whose lifetime ended before it arrived;
// treating it as a failure puts the cache into backoff instead of a loop.
var errExpiredOnArrival = errors.New("serviceuser: token expired before it arrived (expires_in shorter than the request took)")

// errNoToken reports a fetch that returned neither a token nor an error.
var errNoToken = errors.New("serviceuser: token request returned no token and no error")

// Config is how a Cache treats its fetch's outcomes, and what it tells of
// them. Every field may be left zero.
type Config struct {
	// Classify sorts a failed request's error for the retry schedule; nil
	// takes every error as Transient.
	Classify func(error) Class
	// Closed returns the error of a refresh that Close ended, given the
	// refresh's last error (nil when it had none), and the error of a call
	// made after Close with no valid token cached (nil). Nil: errors that
	// match ErrClosed.
	Closed func(last error) error
	// Changed, when set, reports a credential the last request did not use:
	// it ends the backoff, and the new credential starts with no failures
	// counted.
	Changed func() bool
	// OnStart, when set, precedes each token request, with the refresh's
	// context; waited tells whether callers wait for it (no valid token is
	// cached), attempt counts the requests since the last success, from 1.
	OnStart func(ctx context.Context, waited bool, attempt int)
	// OnDone, when set, follows each token request, with the same context.
	OnDone func(ctx context.Context, o Outcome)
	// Timing is when tokens are refreshed and stop being served.
	Timing Timing
	// WaitBudget bounds how long a refresh keeps retrying quickly within
	// its callers' wait; zero means no quick retries.
	WaitBudget time.Duration
	// Key and Self: a refresh's context answers Value(Key) with Self
	// before any other value, so that callbacks can tell caches apart.
	// Key must be comparable; nil means none.
	Key, Self any
}

// Outcome describes a token request that ended. It has the fields of
// hooks.RefreshDoneInfo, in its order, so that it converts to one.
type Outcome struct {
	Waited   bool
	Attempt  int
	Duration time.Duration
	// Err is nil on success; then Expiry is when the new token stops being
	// served.
	Err    error
	Expiry time.Time
	// NextAttempt is when the next request may start after a failure.
	NextAttempt time.Time
}

// Cache is a caching, self-refreshing token source (see New). It is safe for
// concurrent use.
type Cache struct {
	snap  atomic.Pointer[snapshot]
	fetch func(context.Context) (*oauth2.Token, error)
	cfg   Config

	bg     context.Context // bounds refreshes; done after Close
	ahead  context.Context // of every refresh ahead of expiry (see refreshContext)
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex // guards the fields below
	closed   bool       // set by Close: no refresh starts any more
	flight   *flight    // the refresh in progress, or nil
	failures int        // consecutive failed token requests
	// patientAt and urgentAt end the backoff: no refresh ahead of expiry
	// starts before patientAt, none for callers without a token before urgentAt.
	patientAt, urgentAt time.Time
	hadToken            bool          // a token was obtained: the credential is not brand new
	lastErr             error         // the last request's error; nil after a success
	lastKind            Kind          // the last error's Kind
	wake                chan struct{} // closed when a refresh starts, for callers waiting for it; nil if none waits
}

// flight is one refresh, shared by everyone who waits for it.
type flight struct {
	ctx     context.Context // its token requests' and its callbacks' (see refreshContext)
	done    chan struct{}
	token   *oauth2.Token
	err     error
	waiters int // callers waiting for it; guarded by Cache.mu
}

// New returns a cache of the tokens fetch obtains, one token request per
// call. Its refreshes, and the ctx they give fetch, see ctx's values but not
// its cancellation: the cache lives until Close. No goroutine runs while no
// refresh is in flight.
func New(ctx context.Context, fetch func(context.Context) (*oauth2.Token, error), cfg Config) *Cache {
	if ctx == nil { // tolerated by x/oauth2, so here too
		ctx = context.Background()
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c := &Cache{fetch: fetch, cfg: cfg, bg: bg, cancel: cancel}
	c.ahead = &refreshContext{Context: bg, key: cfg.Key, self: cfg.Self} // a refresh ahead of expiry: no caller waits
	return c
}

// Token returns a valid token, waiting for a refresh only when none is
// cached; ctx bounds the caller's wait, never the shared refresh. A stale
// token (inside its refresh window) is returned at once, and starts one
// refresh in the background.
func (c *Cache) Token(ctx context.Context) (*oauth2.Token, error) {
	if s := c.snap.Load(); s != nil {
		now := time.Now()
		if now.Before(s.refreshAt) {
			return s.token, nil
		}
		if now.Before(s.expiresAt) {
			c.refreshAhead(s)
			return s.token, nil
		}
	}
	return c.wait(ctx)
}

// refreshAhead starts a background refresh of stale unless one runs, backoff
// forbids it, or stale is no longer the cached token (a refresh ended since
// the caller read it). It never blocks: if another caller holds the lock,
// that caller is starting or ending a refresh, and the next stale read tries
// again.
func (c *Cache) refreshAhead(stale *snapshot) {
	if c.mu.TryLock() {
		if c.snap.Load() == stale {
			c.startLocked(time.Now(), nil)
		}
		c.mu.Unlock()
	}
}

// startLocked returns the refresh in flight, starting one if the cache is
// open and out of backoff; otherwise nil. waiter is the context of a caller
// that has no valid token and waits: the shorter backoff applies, and a
// refresh it starts carries its values. It is nil for a refresh ahead of
// expiry.
func (c *Cache) startLocked(now time.Time, waiter context.Context) *flight {
	if c.flight != nil {
		return c.flight
	}
	notBefore := c.patientAt
	if waiter != nil {
		notBefore = c.urgentAt
	}
	if c.closedLocked() || now.Before(notBefore) && !c.newCredentialLocked() {
		return nil
	}
	f := &flight{ctx: c.ahead, done: make(chan struct{})}
	if waiter != nil {
		f.ctx = c.newRefreshContext(waiter)
	}
	c.flight = f
	if c.wake != nil {
		close(c.wake)
		c.wake = nil
	}
	c.wg.Add(1)
	go c.run(f)
	return f
}

// newCredentialLocked reports whether the credential changed since the last
// request; the new one starts with no failures counted, so that it gets the
// quick retries of a credential the server may not show yet.
func (c *Cache) newCredentialLocked() bool {
	if c.cfg.Changed == nil || !c.cfg.Changed() {
		return false
	}
	c.failures = 0
	return true
}

// closedLocked reports whether Close was called.
func (c *Cache) closedLocked() bool {
	return c.closed || c.bg.Err() != nil
}

// closedWith is the error of a refresh that Close ended, or of a call after
// Close (last nil).
func (c *Cache) closedWith(last error) error {
	if c.cfg.Closed != nil {
		return c.cfg.Closed(last)
	}
	if last == nil {
		return ErrClosed
	}
	return fmt.Errorf("%w (last error: %w)", ErrClosed, last) // one line, unlike errors.Join's
}

// Valid reports whether a token is cached that is still served.
func (c *Cache) Valid() bool {
	s := c.snap.Load()
	return s != nil && time.Now().Before(s.expiresAt)
}

// Invalidate drops tok if it is still the cached token and was fetched at
// least MinInvalidateAge ago.
func (c *Cache) Invalidate(tok *oauth2.Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.snap.Load()
	if s != nil && s.token == tok && time.Since(s.fetchedAt) >= MinInvalidateAge {
		c.snap.Store(nil)
	}
}

// LastError returns the error of the last token request, or nil if it
// succeeded.
func (c *Cache) LastError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// Close stops a refresh in flight and waits until no goroutine of the cache
// is left. Afterwards a still-valid cached token is served, and every other
// call fails with Config.Closed's error. Close is idempotent.
func (c *Cache) Close() {
	// Setting closed under mu orders every wg.Add (made under mu by
	// startLocked) before the Wait below: no refresh starts after it.
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}
