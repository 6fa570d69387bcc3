// Package jwks fetches and keeps the key set ZITADEL signs JWT access tokens
// with (discovery's jwks_uri), for verifying them without a request each:
// cached as long as the answer's Cache-Control max-age says (within bounds),
// refetched at most once per RefetchInterval for a kid it does not hold,
// one fetch at a time for every caller.
package jwks

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/contain"
	"github.com/go-serviceuser/serviceuser/internal/discovery"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
)

// Bounds on how long a key set is used. ZITADEL answers max-age=300; a key
// published ahead of use is in the set long before it signs, so a set kept
// for minutes misses no new key, and one that left the set stops verifying
// within MaxMaxAge.
const (
	// DefaultMaxAge is used when the answer names no max-age.
	DefaultMaxAge = 5 * time.Minute
	// MinMaxAge is the floor: a max-age=0 or no-store answer would otherwise
	// cost a request per token.
	MinMaxAge = 30 * time.Second
	// MaxMaxAge is the ceiling: a key removed from the set stops verifying
	// within it, whatever the answer said.
	MaxMaxAge = time.Hour
	// RefetchInterval is the least time between two fetches: a flood of
	// tokens naming unknown kids costs at most one request per interval.
	RefetchInterval = 30 * time.Second
	// retryInterval is the least time between fetches after a failed one,
	// when no usable set is held: short, since every JWT waits on it.
	retryInterval = time.Second
)

// ErrUnknownKey is a kid the key set does not hold, even after a refetch.
var ErrUnknownKey = errors.New("no key of the key set has the token's kid")

// KeyError is a key of the set that names the token's kid but cannot verify
// it: not an RSA key, too short, or meant for another algorithm or use.
type KeyError struct {
	KID     string
	Problem string
}

// Error describes the refused key.
func (e *KeyError) Error() string { return fmt.Sprintf("key %q refused: %s", e.KID, e.Problem) }

// Set is ZITADEL's key set, fetched on demand. It is safe for concurrent use.
type Set struct {
	caller *httpcall.Caller
	url    func(context.Context) (string, error)
	wrap   func(*discovery.Error) error

	mu      sync.Mutex
	keys    map[string]entry
	expires time.Time // the keys are used until then
	next    time.Time // no fetch starts before then
	lastErr error     // the last fetch's failure, until the next fetch
	flight  chan struct{}
}

// entry is one key of the set, or why it cannot be used.
type entry struct {
	key *rsa.PublicKey
	err error
}

// New returns a key set fetched with c from the URL url gives (the
// discovery document's jwks_uri, checked by the caller); wrap turns a failed
// fetch into the error callers get.
func New(c *httpcall.Caller, url func(context.Context) (string, error), wrap func(*discovery.Error) error) *Set {
	return &Set{caller: c, url: url, wrap: wrap}
}

// Key returns the RSA key named kid. It fetches the set when none is held or
// it has expired, and again when kid is not in it, at most once per
// RefetchInterval; every caller shares the fetch in flight. A *KeyError or
// ErrUnknownKey refuses the token; any other error (the set could not be
// fetched, or ctx ended) says nothing of it.
func (s *Set) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if k, err, ok := s.lookupLocked(kid, time.Now()); ok {
		s.mu.Unlock()
		return k, err
	}
	flight := s.flight
	if flight == nil && time.Now().Before(s.next) {
		err := s.lastErr
		s.mu.Unlock()
		return nil, orUnknown(err)
	}
	if flight == nil {
		flight = s.startLocked(ctx)
	}
	s.mu.Unlock()
	select {
	case <-flight:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, err, ok := s.lookupLocked(kid, time.Now()); ok {
		return k, err
	}
	return nil, orUnknown(s.lastErr)
}

// lookupLocked returns kid's key when the set held is fresh and has it.
func (s *Set) lookupLocked(kid string, now time.Time) (*rsa.PublicKey, error, bool) {
	if !now.Before(s.expires) {
		return nil, nil, false
	}
	e, ok := s.keys[kid]
	return e.key, e.err, ok
}

// orUnknown is err, or ErrUnknownKey when the set was fetched.
func orUnknown(err error) error {
	if err != nil {
		return err
	}
	return ErrUnknownKey
}

// startLocked starts a fetch on a goroutine of its own (see contain.Go),
// bounded by the caller's timeout and not by ctx's end, since other callers
// may wait for it too; the channel is closed when it is done.
func (s *Set) startLocked(ctx context.Context) chan struct{} {
	done := make(chan struct{})
	s.flight = done
	ctx = context.WithoutCancel(ctx)
	contain.Go("key set request", func() (*fetched, error) {
		return s.fetch(ctx)
	}, func(f *fetched, err error) {
		now := time.Now()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.flight = nil
		s.lastErr = err
		if err != nil {
			s.next = now.Add(retryInterval)
			if now.Before(s.expires) {
				// The keys held still serve, but no longer than their
				// max-age: the fetch due then is not held back.
				s.next = now.Add(min(RefetchInterval, max(s.expires.Sub(now), retryInterval)))
			}
		} else {
			s.keys, s.expires, s.next = f.keys, now.Add(f.maxAge), now.Add(RefetchInterval)
		}
		close(done)
	})
	return done
}

// fetched is a key set as read from one answer.
type fetched struct {
	keys   map[string]entry
	maxAge time.Duration
}

// fetch asks for the key set.
func (s *Set) fetch(ctx context.Context) (*fetched, error) {
	target, err := s.url(ctx)
	if err != nil {
		return nil, err
	}
	fail := func(status int, problem string, err error) error {
		return s.wrap(&discovery.Error{URL: target, StatusCode: status, Problem: problem, Err: err})
	}
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return nil, fail(0, "bad key set URL", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, body, err := s.caller.Do(ctx, req)
	if err != nil {
		return nil, fail(0, "key set request failed", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fail(resp.StatusCode, fmt.Sprintf("key set: HTTP %d", resp.StatusCode), nil)
	}
	keys, err := parse(body)
	if err != nil {
		return nil, fail(resp.StatusCode, "key set unusable", err)
	}
	return &fetched{keys: keys, maxAge: MaxAge(resp.Header.Values("Cache-Control"))}, nil
}
