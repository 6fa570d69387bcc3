// Package cachetest holds what the tests of token caches share: a scripted
// fetch and a count of the goroutines that run refreshes.
package cachetest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/oauth2"
)

// Fetch hands out numbered tokens ("token-1", ...) of a fixed lifetime,
// counting calls. While Gate is non-nil each call blocks until Gate yields
// (or ctx ends).
type Fetch struct {
	Lifetime time.Duration
	Calls    atomic.Int32
	Gate     chan struct{}
	Entered  chan struct{} // receives once per call, if non-nil
	fail     atomic.Pointer[error]
}

// Fetch makes one scripted token request.
func (f *Fetch) Fetch(ctx context.Context) (*oauth2.Token, error) {
	n := f.Calls.Add(1)
	if f.Entered != nil {
		f.Entered <- struct{}{}
	}
	if f.Gate != nil {
		select {
		case <-f.Gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := f.fail.Load(); err != nil {
		return nil, *err
	}
	return &oauth2.Token{AccessToken: fmt.Sprintf("token-%d", n), TokenType: "Bearer", Expiry: time.Now().Add(f.Lifetime)}, nil
}

// FailWith makes every later call fail with err; nil makes them succeed
// again.
func (f *Fetch) FailWith(err error) {
	if err == nil {
		f.fail.Store(nil)
		return
	}
	f.fail.Store(&err)
}

// RefreshGoroutines counts the goroutines running a cache's refresh.
func RefreshGoroutines() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return strings.Count(string(buf[:n]), "internal/cache.(*Cache).run(")
}

// RequireNoRefreshGoroutines fails unless no refresh goroutine is left once
// every other goroutine of the synctest bubble it is called in has blocked
// or ended: exact, with no polling.
func RequireNoRefreshGoroutines(t testing.TB) {
	t.Helper()
	synctest.Wait()
	if n := RefreshGoroutines(); n > 0 {
		t.Fatalf("%d refresh goroutines still running", n)
	}
}
