package introspection_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
)

// slowIntrospection holds each introspection request for latency on the
// (bubble's) clock before passing it to base, and counts the requests in
// flight at once.
type slowIntrospection struct {
	base                 http.RoundTripper
	latency              time.Duration
	inFlight, max, total atomic.Int32
}

func (s *slowIntrospection) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.URL.Path, "/introspect") {
		return s.base.RoundTrip(r)
	}
	s.total.Add(1)
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for m := s.max.Load(); n > m && !s.max.CompareAndSwap(m, n); m = s.max.Load() {
	}
	select {
	case <-time.After(s.latency):
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return s.base.RoundTrip(r)
}

// slowSetup is an in-process fake behind slowIntrospection and an
// introspector for it with at most slots requests in flight; call inside
// a synctest bubble.
func slowSetup(t *testing.T, slots int) (*slowIntrospection, *introspection.Introspector) {
	t.Helper()
	srv, app, _ := containedSetup(t)
	rt := &slowIntrospection{base: srv.Transport(), latency: 100 * time.Millisecond}
	in, err := introspection.Config{Key: mustKey(t, app.KeyFile), Issuer: srv.Issuer(), HTTPClient: &http.Client{Transport: rt},
		MaxConcurrentIntrospections: slots}.NewIntrospector(context.Background())
	require.NoError(t, err)
	return rt, in
}

// TestConcurrentIntrospectionsBounded: n+k distinct new tokens at once cost
// at most n requests in flight and no goroutine per waiting token, and all
// are answered as slots free up.
func TestConcurrentIntrospectionsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n, k = 4, 60
		rt, in := slowSetup(t, n)
		before := runtime.NumGoroutine()
		var wg sync.WaitGroup
		var answered atomic.Int32
		for i := range n + k {
			wg.Go(func() {
				r, err := in.Introspect(context.Background(), opaqueToken(fmt.Sprintf("flood-%03d-", i)))
				if assert.NoError(t, err) && assert.False(t, r.Active) {
					answered.Add(1)
				}
			})
		}
		synctest.Wait()
		assert.Equal(t, int32(n), rt.inFlight.Load(), "every slot in use, no more")
		// One goroutine per caller, one per slot's request and no more.
		assert.LessOrEqual(t, runtime.NumGoroutine()-before, n+k+n+2)
		wg.Wait()
		assert.Equal(t, int32(n), rt.max.Load())
		assert.Equal(t, int32(n+k), rt.total.Load(), "one request per token")
		assert.Equal(t, int32(n+k), answered.Load())
	})
}

// TestWaitForSlotEndsWithCallersContext: a caller waiting for a slot stops
// when its ctx ends, without a request; the middleware answers it 503.
func TestWaitForSlotEndsWithCallersContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt, in := slowSetup(t, 1)
		first := introspectAsync(context.Background(), in, opaqueToken("first"))
		synctest.Wait()
		require.Equal(t, int32(1), rt.inFlight.Load())

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		_, err := in.Introspect(ctx, opaqueToken("second"))
		require.ErrorIs(t, err, context.DeadlineExceeded)

		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "Bearer "+opaqueToken("third"))
		rec := httptest.NewRecorder()
		in.Middleware(subjectHandler).ServeHTTP(rec, req)
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)

		out := <-first
		require.NoError(t, out.err)
		assert.Equal(t, int32(1), rt.total.Load(), "no request for the callers that gave up")
	})
}

func TestNegativeMaxConcurrentIntrospectionsIsRefused(t *testing.T) {
	err := introspection.Config{Key: applicationKey(t), Issuer: fakeIssuer, MaxConcurrentIntrospections: -1}.Validate()
	var ce *serviceuser.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "MaxConcurrentIntrospections", ce.Field)
}
