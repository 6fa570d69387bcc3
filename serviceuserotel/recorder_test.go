package serviceuserotel_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	serviceuserotel "github.com/go-serviceuser/serviceuser/serviceuserotel"
	"github.com/go-serviceuser/serviceuser/serviceuserotel/internal/hooktest"
)

var (
	ok      = attribute.String("serviceuser.outcome", "ok")
	failed  = attribute.String("serviceuser.outcome", "error")
	waited  = attribute.String("serviceuser.refresh.mode", "waited")
	ahead   = attribute.String("serviceuser.refresh.mode", "ahead")
	hit     = attribute.Bool("serviceuser.cache_hit", true)
	miss    = attribute.Bool("serviceuser.cache_hit", false)
	tokType = attribute.String("error.type", "*serviceuser.TokenError")
)

func TestRefreshIsCountedTimedAndTraced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		r.hooks.RefreshStart(context.Background(), hooks.RefreshStartInfo{Waited: true, Attempt: 1})
		time.Sleep(250 * time.Millisecond)
		expiry := time.Now().Add(time.Hour)
		r.hooks.RefreshDone(context.Background(), hooks.RefreshDoneInfo{Waited: true, Attempt: 1, Duration: 250 * time.Millisecond, Expiry: expiry})

		ms := r.collect(t)
		n, found := counter(t, ms, "serviceuser.token.refreshes", ok, waited)
		require.True(t, found)
		assert.Equal(t, int64(1), n)
		assert.Equal(t, "{refresh}", ms["serviceuser.token.refreshes"].Unit)
		assert.Equal(t, 1, points(t, ms, "serviceuser.token.refreshes"), "a success has no error attributes")
		dp := histogram(t, ms, "serviceuser.token.refresh.duration", ok, waited)
		assert.Equal(t, uint64(1), dp.Count)
		assert.InDelta(t, 0.25, dp.Sum, 1e-9)
		assert.Equal(t, "s", ms["serviceuser.token.refresh.duration"].Unit)
		left, found := gauge(t, ms)
		require.True(t, found)
		assert.InDelta(t, 3600, left, 1e-9)

		time.Sleep(10 * time.Minute)
		left, _ = gauge(t, r.collect(t))
		assert.InDelta(t, 3000, left, 1e-9, "the gauge follows the clock")
		time.Sleep(2 * time.Hour)
		left, _ = gauge(t, r.collect(t))
		assert.Zero(t, left, "an expired token has nothing left, not a negative time")

		spans := r.spans.Ended()
		require.Len(t, spans, 1)
		s := spans[0]
		assert.Equal(t, "serviceuser.token.refresh", s.Name())
		assert.Equal(t, 250*time.Millisecond, s.EndTime().Sub(s.StartTime()))
		assert.Equal(t, codes.Unset, s.Status().Code)
		assert.Contains(t, s.Attributes(), waited)
		assert.Contains(t, s.Attributes(), ok)
		assert.Contains(t, s.Attributes(), attribute.Int("serviceuser.refresh.attempt", 1))
		assert.Contains(t, s.Attributes(), attribute.String("serviceuser.token.expiry", expiry.UTC().Format(time.RFC3339Nano)))
	})
}

func TestFailedRefreshRecordsTheErrorsKindNotItsText(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		err := fmt.Errorf("refresh: %w", &serviceuser.TokenError{
			StatusCode: 500, Code: "server_error", Description: "Errors.Internal", Endpoint: serviceuser.EndpointToken,
			Err: &oauth2.RetrieveError{ErrorCode: "server_error"},
		})
		r.hooks.RefreshStart(context.Background(), hooks.RefreshStartInfo{Attempt: 2})
		time.Sleep(time.Second)
		next := time.Now().Add(4 * time.Second)
		r.hooks.RefreshDone(context.Background(), hooks.RefreshDoneInfo{Attempt: 2, Duration: time.Second, Err: err, NextAttempt: next})

		ms := r.collect(t)
		n, found := counter(t, ms, "serviceuser.token.refreshes", failed, ahead, tokType,
			attribute.String("serviceuser.endpoint", "token"), attribute.Int("http.response.status_code", 500),
			attribute.String("serviceuser.error.code", "server_error"))
		require.True(t, found, "%+v", ms["serviceuser.token.refreshes"].Data)
		assert.Equal(t, int64(1), n)
		assert.Equal(t, 1, points(t, ms, "serviceuser.token.refreshes"))
		assert.Equal(t, uint64(1), histogram(t, ms, "serviceuser.token.refresh.duration", failed, ahead, tokType).Count)
		_, found = gauge(t, ms)
		assert.False(t, found, "no token, no remaining lifetime")

		spans := r.spans.Ended()
		require.Len(t, spans, 1)
		assert.Equal(t, codes.Error, spans[0].Status().Code)
		assert.Equal(t, "*serviceuser.TokenError", spans[0].Status().Description)
		assert.Contains(t, spans[0].Attributes(), attribute.String("serviceuser.refresh.next_attempt", next.UTC().Format(time.RFC3339Nano)))
		assert.Empty(t, spans[0].Events(), "no exception event: it would hold the error's text")
	})
}

func TestOutOfTheOrdinaryErrorsAreNamedByType(t *testing.T) {
	r := newRig(t)
	for _, err := range []error{
		fmt.Errorf("wait: %w", serviceuser.ErrClosed),
		errors.New("dial tcp: connection refused"),
		&serviceuser.TokenError{StatusCode: 400, Code: "Errors.Something.Custom"},
	} {
		r.hooks.RefreshDone(context.Background(), hooks.RefreshDoneInfo{Waited: true, Err: err})
	}
	ms := r.collect(t)
	for _, attrs := range [][]attribute.KeyValue{
		{failed, waited, attribute.String("error.type", "serviceuser.ErrClosed")},
		{failed, waited, attribute.String("error.type", "*errors.errorString")},
		{failed, waited, tokType, attribute.String("serviceuser.endpoint", "token"), attribute.Int("http.response.status_code", 400),
			attribute.String("serviceuser.error.code", "other")},
	} {
		n, found := counter(t, ms, "serviceuser.token.refreshes", attrs...)
		assert.True(t, found, "%v in %+v", attrs, ms["serviceuser.token.refreshes"].Data)
		assert.Equal(t, int64(1), n)
	}
}

func TestRefreshDoneWithoutStartStillMakesASpan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		r.hooks.RefreshDone(context.Background(), hooks.RefreshDoneInfo{Waited: true, Attempt: 1, Duration: 3 * time.Second, Expiry: time.Now().Add(time.Minute)})
		spans := r.spans.Ended()
		require.Len(t, spans, 1)
		assert.Equal(t, 3*time.Second, spans[0].EndTime().Sub(spans[0].StartTime()))
	})
}

func TestCloseEndsAnOpenSpanAndStopsTheGauge(t *testing.T) {
	r := newRig(t)
	r.hooks.RefreshDone(context.Background(), hooks.RefreshDoneInfo{Expiry: time.Now().Add(time.Hour)})
	_, found := gauge(t, r.collect(t))
	require.True(t, found)
	r.hooks.RefreshStart(context.Background(), hooks.RefreshStartInfo{Waited: true, Attempt: 1})
	assert.Len(t, r.spans.Started(), 2)
	assert.Len(t, r.spans.Ended(), 1)

	require.NoError(t, r.rec.Close())
	assert.Len(t, r.spans.Ended(), 2)
	_, found = gauge(t, r.collect(t))
	assert.False(t, found, "a closed Recorder is no longer observed")
}

func TestTokenRejections(t *testing.T) {
	r := newRig(t)
	r.hooks.TokenRejected(context.Background(), hooks.TokenRejectedInfo{InvalidateCalled: true, Retried: true})
	r.hooks.TokenRejected(context.Background(), hooks.TokenRejectedInfo{InvalidateCalled: true, Retried: true})
	r.hooks.TokenRejected(context.Background(), hooks.TokenRejectedInfo{})
	ms := r.collect(t)
	status := attribute.Int("http.response.status_code", 401)
	n, _ := counter(t, ms, "serviceuser.token.rejections", status,
		attribute.Bool("serviceuser.rejection.invalidate_called", true), attribute.Bool("serviceuser.rejection.retried", true))
	assert.Equal(t, int64(2), n)
	n, _ = counter(t, ms, "serviceuser.token.rejections", status,
		attribute.Bool("serviceuser.rejection.invalidate_called", false), attribute.Bool("serviceuser.rejection.retried", false))
	assert.Equal(t, int64(1), n)
}

func TestCredentialReloads(t *testing.T) {
	r := newRig(t)
	r.hooks.CredentialReloaded(context.Background(), hooks.CredentialReloadedInfo{Path: "/run/key.json", KeyID: "k2"})
	r.hooks.CredentialReloaded(context.Background(), hooks.CredentialReloadedInfo{Path: "/run/key.json",
		Err: &serviceuser.KeyFileError{Field: "key", Problem: "not a PEM block"}})
	ms := r.collect(t)
	n, _ := counter(t, ms, "serviceuser.credential.reloads", ok)
	assert.Equal(t, int64(1), n)
	n, _ = counter(t, ms, "serviceuser.credential.reloads", attribute.String("serviceuser.outcome", "refused"),
		attribute.String("error.type", "*serviceuser.KeyFileError"))
	assert.Equal(t, int64(1), n)
}

func TestDiscovery(t *testing.T) {
	r := newRig(t)
	r.hooks.DiscoveryDone(context.Background(), hooks.DiscoveryDoneInfo{Issuer: "https://z.example", Duration: 20 * time.Millisecond})
	r.hooks.DiscoveryDone(context.Background(), hooks.DiscoveryDoneInfo{Issuer: "https://z.example", Duration: 5 * time.Millisecond,
		Err: &serviceuser.DiscoveryError{URL: "https://z.example/.well-known/openid-configuration", StatusCode: 503, Problem: "HTTP 503"}})
	ms := r.collect(t)
	n, _ := counter(t, ms, "serviceuser.discovery.fetches", ok)
	assert.Equal(t, int64(1), n)
	n, _ = counter(t, ms, "serviceuser.discovery.fetches", failed, attribute.String("error.type", "*serviceuser.DiscoveryError"))
	assert.Equal(t, int64(1), n)
	assert.InDelta(t, 0.02, histogram(t, ms, "serviceuser.discovery.duration", ok).Sum, 1e-9)
	assert.InDelta(t, 0.005, histogram(t, ms, "serviceuser.discovery.duration", failed).Sum, 1e-9)
}

func TestIntrospectionCacheHitRatioIsDerivable(t *testing.T) {
	r := newRig(t)
	for range 3 {
		r.hooks.IntrospectionDone(context.Background(), hooks.IntrospectionDoneInfo{CacheHit: true, Active: true, Duration: time.Microsecond})
	}
	r.hooks.IntrospectionDone(context.Background(), hooks.IntrospectionDoneInfo{Active: true, Duration: 40 * time.Millisecond})
	r.hooks.IntrospectionDone(context.Background(), hooks.IntrospectionDoneInfo{Active: false, Duration: 30 * time.Millisecond})
	r.hooks.IntrospectionDone(context.Background(), hooks.IntrospectionDoneInfo{Duration: 10 * time.Millisecond,
		Err: &serviceuser.TokenError{Endpoint: serviceuser.EndpointIntrospection, StatusCode: 503}})

	ms := r.collect(t)
	active, inactive := attribute.Bool("serviceuser.introspection.active", true), attribute.Bool("serviceuser.introspection.active", false)
	for _, c := range []struct {
		want  int64
		attrs []attribute.KeyValue
	}{
		{3, []attribute.KeyValue{ok, hit, active}},
		{1, []attribute.KeyValue{ok, miss, active}},
		{1, []attribute.KeyValue{ok, miss, inactive}},
		{1, []attribute.KeyValue{failed, miss, tokType}},
	} {
		n, _ := counter(t, ms, "serviceuser.introspections", c.attrs...)
		assert.Equal(t, c.want, n, "%v", c.attrs)
	}
	assert.Equal(t, uint64(3), histogram(t, ms, "serviceuser.introspection.duration", ok, hit).Count)
	assert.Equal(t, uint64(2), histogram(t, ms, "serviceuser.introspection.duration", ok, miss).Count)
	assert.InDelta(t, 0.01, histogram(t, ms, "serviceuser.introspection.duration", failed, miss).Sum, 1e-9)
}

func TestEventsFromManyGoroutinesAreAllCounted(t *testing.T) {
	r := newRig(t)
	const workers, each = 8, 100
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				r.hooks.IntrospectionDone(context.Background(), hooks.IntrospectionDoneInfo{CacheHit: true, Active: true})
				r.hooks.RefreshDone(context.Background(), hooks.RefreshDoneInfo{Expiry: time.Now().Add(time.Hour)})
			}
		})
	}
	wg.Go(func() {
		for range each {
			var rm metricdata.ResourceMetrics
			assert.NoError(t, r.reader.Collect(context.Background(), &rm))
		}
	})
	wg.Wait()
	ms := r.collect(t)
	n, _ := counter(t, ms, "serviceuser.introspections", ok, hit, attribute.Bool("serviceuser.introspection.active", true))
	assert.Equal(t, int64(workers*each), n)
	n, _ = counter(t, ms, "serviceuser.token.refreshes", ok, ahead)
	assert.Equal(t, int64(workers*each), n)
}

func TestTheGlobalProvidersAreTheDefault(t *testing.T) {
	rec, err := serviceuserotel.New(serviceuserotel.WithMeterProvider(nil), serviceuserotel.WithTracerProvider(nil))
	require.NoError(t, err)
	hooktest.FeedEverything(rec.Hooks(), secret)
	assert.Same(t, rec.Hooks(), rec.Hooks())
	require.NoError(t, rec.Close())
}
