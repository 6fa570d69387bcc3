package serviceuserotel_test

import (
	"net/http"
	"sort"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// gate holds each token request until the test lets it go.
type gate struct {
	base http.RoundTripper
	next chan struct{}
}

func newGate(base http.RoundTripper) *gate { return &gate{base: base, next: make(chan struct{})} }

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/token") {
		<-g.next
	}
	return g.base.RoundTrip(r)
}

// gatedSource is a token source for a new service user of z whose token
// requests wait at the returned gate.
func gatedSource(t *testing.T, z *serviceusertest.Server, hk *hooks.Hooks) (*serviceuser.TokenSource, *gate) {
	t.Helper()
	key, err := serviceuser.ParseKeyFile(z.NewServiceUser().KeyFile)
	require.NoError(t, err)
	g := newGate(z.Transport())
	ts := serviceuser.Config{Key: key, Issuer: z.Issuer(), HTTPClient: &http.Client{Transport: g}, Hooks: hk}.TokenSource(t.Context())
	t.Cleanup(func() { require.NoError(t, ts.Close()) })
	return ts, g
}

// TestSharedRecorderPairsEachSourcesSpan: two sources share a Recorder and
// their token requests overlap (a starts, b starts, b ends, a ends): each
// request is one span, from its own start to its own end, with its own
// outcome.
func TestSharedRecorderPairsEachSourcesSpan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, z := newRig(t), zitadel(t)
		a, gateA := gatedSource(t, z, r.hooks)
		b, gateB := gatedSource(t, z, r.hooks)
		errA := make(chan error, 1)
		go func() { _, err := a.Token(); errA <- err }()
		synctest.Wait()
		time.Sleep(time.Second)
		errB := make(chan error, 1)
		go func() { _, err := b.Token(); errB <- err }()
		synctest.Wait()
		time.Sleep(time.Second)
		gateB.next <- struct{}{}
		require.NoError(t, <-errB)
		time.Sleep(3 * time.Second)
		z.FailNext(1, serviceusertest.Fault{Status: http.StatusBadRequest, Body: `{"error":"invalid_grant"}`})
		gateA.next <- struct{}{}
		require.Error(t, <-errA)

		spans := r.spans.Ended()
		require.Len(t, spans, 2, "one span per token request")
		byOutcome := map[string]sdktrace.ReadOnlySpan{}
		for _, s := range spans {
			for _, kv := range s.Attributes() {
				if kv.Key == "serviceuser.outcome" {
					byOutcome[kv.Value.AsString()] = s
				}
			}
		}
		require.Len(t, byOutcome, 2)
		sa, sb := byOutcome["error"], byOutcome["ok"]
		assert.Equal(t, 5*time.Second, sa.EndTime().Sub(sa.StartTime()), "a's request")
		assert.Equal(t, codes.Error, sa.Status().Code)
		assert.Equal(t, time.Second, sb.EndTime().Sub(sb.StartTime()), "b's request")
		assert.Equal(t, codes.Unset, sb.Status().Code)
		assert.True(t, sb.StartTime().After(sa.StartTime()))
	})
}

// TestAWaitedRefreshIsAChildOfTheCallersSpan: the span of a token request a
// caller waits for has the caller's span as its parent, and is in its trace.
func TestAWaitedRefreshIsAChildOfTheCallersSpan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, z := newRig(t), zitadel(t)
		ts := source(t, z, r.hooks)
		ctx, request := r.tracer.Start(t.Context(), "GET /orders")
		first, err := ts.TokenContext(ctx)
		require.NoError(t, err)
		request.End()

		spans := r.spans.Ended()
		require.Len(t, spans, 2)
		refresh := spans[0]
		require.Equal(t, serviceuserRefresh, refresh.Name())
		assert.Equal(t, request.SpanContext().TraceID(), refresh.SpanContext().TraceID(), "in the caller's trace")
		assert.Equal(t, request.SpanContext().SpanID(), refresh.Parent().SpanID(), "the caller's span is the parent")

		// A refresh ahead of expiry keeps no caller waiting: a trace of its own.
		time.Sleep(time.Until(first.Expiry) - 2*time.Minute)
		ctx, later := r.tracer.Start(t.Context(), "GET /invoices")
		_, err = ts.TokenContext(ctx)
		require.NoError(t, err)
		later.End()
		synctest.Wait()
		spans = r.spans.Ended()
		require.Len(t, spans, 4)
		var ahead sdktrace.ReadOnlySpan
		for _, s := range spans[2:] {
			if s.Name() == serviceuserRefresh {
				ahead = s
			}
		}
		require.NotNil(t, ahead)
		assert.False(t, ahead.Parent().IsValid(), "a root span")
		assert.NotEqual(t, later.SpanContext().TraceID(), ahead.SpanContext().TraceID())
		assert.Contains(t, ahead.Attributes(), attribute.String("serviceuser.refresh.mode", "ahead"))
	})
}

// TestARefreshAheadIsLinkedToTheSourcesSpan: the context a source was made
// with supplies the parent of a request no caller's span claims, and the
// link of a refresh ahead of expiry.
func TestARefreshAheadIsLinkedToTheSourcesSpan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, z := newRig(t), zitadel(t)
		startup, span := r.tracer.Start(t.Context(), "startup")
		key, err := serviceuser.ParseKeyFile(z.NewServiceUser().KeyFile)
		require.NoError(t, err)
		ts := serviceuser.Config{Key: key, Issuer: z.Issuer(), HTTPClient: z.Client(), Hooks: r.hooks}.TokenSource(startup)
		defer ts.Close()
		span.End()
		first, err := ts.Token()
		require.NoError(t, err)
		time.Sleep(time.Until(first.Expiry) - 2*time.Minute)
		_, err = ts.Token()
		require.NoError(t, err)
		synctest.Wait()

		spans := r.spans.Ended()
		require.Len(t, spans, 3)
		waitedSpan, aheadSpan := spans[1], spans[2]
		assert.Equal(t, span.SpanContext().SpanID(), waitedSpan.Parent().SpanID(), "no caller's span: the source's")
		assert.False(t, aheadSpan.Parent().IsValid())
		require.Len(t, aheadSpan.Links(), 1)
		assert.Equal(t, span.SpanContext(), aheadSpan.Links()[0].SpanContext)
	})
}

const serviceuserRefresh = "serviceuser.token.refresh"

// TestAFailedRefreshIsCountedOnce: one failed token request adds one to one
// series of one instrument: sums over every counter would count it twice
// otherwise.
func TestAFailedRefreshIsCountedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, z := newRig(t), zitadel(t)
		z.FailNext(1, serviceusertest.Fault{Status: http.StatusBadRequest, Body: `{"error":"invalid_grant"}`})
		ts := source(t, z, r.hooks)
		_, err := ts.Token()
		require.Error(t, err)

		var failures []string
		for name, m := range r.collect(t) {
			sum, isSum := m.Data.(metricdata.Sum[int64])
			if !isSum || !strings.HasPrefix(name, "serviceuser.token.") {
				continue
			}
			for _, dp := range sum.DataPoints {
				outcome, _ := dp.Attributes.Value("serviceuser.outcome")
				if dp.Attributes.HasValue("error.type") || outcome.AsString() == "error" {
					failures = append(failures, name)
				}
			}
		}
		sort.Strings(failures)
		assert.Equal(t, []string{"serviceuser.token.refreshes"}, failures)
		n, found := counter(t, r.collect(t), "serviceuser.token.refreshes", failed, waited, tokType,
			attribute.String("serviceuser.endpoint", "token"), attribute.Int("http.response.status_code", 400),
			attribute.String("serviceuser.error.code", "invalid_grant"))
		require.True(t, found)
		assert.Equal(t, int64(1), n)
	})
}
