package cache

import (
	"context"
	"testing"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/cache/cachetest"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testBudget is how long a test cache's refresh retries quickly within its
// callers' wait: a request's timeout, as a config gives it.
const testBudget = 10 * time.Second

// newTestCache is a cache around fetch, with the budget a config gives and
// classify (nil: every error is Transient).
func newTestCache(ctx context.Context, fetch func(context.Context) (*oauth2.Token, error), classify func(error) Class) *Cache {
	return New(ctx, fetch, Config{Classify: classify, WaitBudget: testBudget})
}

// newScripted is a cache around a cachetest.Fetch; inside a synctest bubble
// both run on the bubble's clock.
func newScripted(t *testing.T, lifetime time.Duration, classify func(error) Class) (*Cache, *cachetest.Fetch) {
	f := &cachetest.Fetch{Lifetime: lifetime}
	c := newTestCache(context.Background(), f.Fetch, classify)
	t.Cleanup(c.Close)
	return c, f
}

// classifyAs sorts every error into class.
func classifyAs(class Class) func(error) Class {
	return func(error) Class { return class }
}

// staleWindow moves the clock into the refresh-ahead window of a fresh token
// of lifetime d (past the latest jittered start, before the expiry margin).
func staleWindow(d time.Duration) time.Duration {
	return time.Duration(float64(d)*(1-RefreshAheadMin)) + time.Second
}
