package serviceuserotel_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-serviceuser/serviceuser/hooks"
	serviceuserotel "github.com/go-serviceuser/serviceuser/serviceuserotel"
)

// rig is a Recorder wired to an in-memory reader and span recorder.
type rig struct {
	rec    *serviceuserotel.Recorder
	hooks  *hooks.Hooks
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	tracer trace.Tracer // of the same provider: a caller's spans
}

func newRig(t *testing.T) *rig {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	rec, err := serviceuserotel.New(serviceuserotel.WithMeterProvider(mp), serviceuserotel.WithTracerProvider(tp))
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, rec.Close())
		require.NoError(t, mp.Shutdown(context.Background()))
		require.NoError(t, tp.Shutdown(context.Background()))
	})
	return &rig{rec: rec, hooks: rec.Hooks(), reader: reader, spans: spans, tracer: tp.Tracer("caller")}
}

// collect reads every metric, by name.
func (r *rig) collect(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(t.Context(), &rm))
	byName := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		require.Equal(t, serviceuserotel.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			byName[m.Name] = m
		}
	}
	return byName
}

// counter is the counter's value for exactly attrs; ok is false when there is no such point.
func counter(t *testing.T, ms map[string]metricdata.Metrics, name string, attrs ...attribute.KeyValue) (int64, bool) {
	t.Helper()
	m, found := ms[name]
	if !found {
		return 0, false
	}
	sum, isSum := m.Data.(metricdata.Sum[int64])
	require.True(t, isSum, "%s is a %T", name, m.Data)
	require.True(t, sum.IsMonotonic)
	want := attribute.NewSet(attrs...)
	for _, dp := range sum.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Value, true
		}
	}
	return 0, false
}

// points is the number of attribute sets a counter or histogram has.
func points(t *testing.T, ms map[string]metricdata.Metrics, name string) int {
	t.Helper()
	switch d := ms[name].Data.(type) {
	case metricdata.Sum[int64]:
		return len(d.DataPoints)
	case metricdata.Histogram[float64]:
		return len(d.DataPoints)
	case nil:
		return 0
	default:
		t.Fatalf("%s is a %T", name, d)
		return 0
	}
}

// histogram is the histogram's point for exactly attrs.
func histogram(t *testing.T, ms map[string]metricdata.Metrics, name string, attrs ...attribute.KeyValue) metricdata.HistogramDataPoint[float64] {
	t.Helper()
	m, found := ms[name]
	require.True(t, found, "no metric %s", name)
	h, isHist := m.Data.(metricdata.Histogram[float64])
	require.True(t, isHist, "%s is a %T", name, m.Data)
	want := attribute.NewSet(attrs...)
	for _, dp := range h.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp
		}
	}
	t.Fatalf("%s has no point for %v", name, attrs)
	return metricdata.HistogramDataPoint[float64]{}
}

// gauge is the remaining lifetime; ok is false when it was not observed.
func gauge(t *testing.T, ms map[string]metricdata.Metrics) (float64, bool) {
	t.Helper()
	m, found := ms["serviceuser.token.remaining_lifetime"]
	if !found {
		return 0, false
	}
	require.Equal(t, "s", m.Unit)
	g, isGauge := m.Data.(metricdata.Gauge[float64])
	require.True(t, isGauge, "remaining lifetime is a %T", m.Data)
	if len(g.DataPoints) == 0 {
		return 0, false
	}
	require.Len(t, g.DataPoints, 1)
	return g.DataPoints[0].Value, true
}
