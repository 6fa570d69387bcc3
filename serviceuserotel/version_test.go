package serviceuserotel

import (
	"context"
	"regexp"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-serviceuser/serviceuser/hooks"
)

// TestVersionComesFromTheBuild: the scope's version is the one the build
// recorded for this module, as the main module or as a dependency (or what
// replaces it), and releaseVersion when the build names none.
func TestVersionComesFromTheBuild(t *testing.T) {
	dep := func(version string, replace *debug.Module) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "example.com/app", Version: "v1.2.3"},
			Deps: []*debug.Module{{Path: "github.com/go-serviceuser/serviceuser", Version: "v9.9.9"},
				{Path: ScopeName, Version: version, Replace: replace}}}
	}
	for _, c := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"a dependency", dep("v0.1.4", nil), "v0.1.4"},
		{"a pseudo-version", dep("v0.1.5-0.20250101000000-abcdefabcdef", nil), "v0.1.5-0.20250101000000-abcdefabcdef"},
		{"replaced by a version", dep("v0.1.4", &debug.Module{Path: "example.com/fork", Version: "v0.1.6"}), "v0.1.6"},
		{"replaced by a directory", dep("v0.1.4", &debug.Module{Path: "../serviceuserotel"}), releaseVersion},
		{"the main module", &debug.BuildInfo{Main: debug.Module{Path: ScopeName, Version: "v0.2.0"}}, "v0.2.0"},
		{"the main module in development", &debug.BuildInfo{Main: debug.Module{Path: ScopeName, Version: "(devel)"}}, releaseVersion},
		{"absent", &debug.BuildInfo{Main: debug.Module{Path: "example.com/app", Version: "v1.2.3"}}, releaseVersion},
	} {
		assert.Equal(t, c.want, versionIn(c.bi), c.name)
	}
	assert.Regexp(t, regexp.MustCompile(`^v\d+\.\d+\.\d+$`), releaseVersion)
}

// TestScopeCarriesTheVersion: the meter's and the tracer's scope name this
// module and its version (here, in its own tests, releaseVersion).
func TestScopeCarriesTheVersion(t *testing.T) {
	require.Equal(t, releaseVersion, moduleVersion(), "this module's tests build it as the main module, in development")
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())
	rec, err := New(WithMeterProvider(mp), WithTracerProvider(tp))
	require.NoError(t, err)
	defer rec.Close()

	rec.Hooks().RefreshStart(t.Context(), hooks.RefreshStartInfo{Attempt: 1})
	rec.Hooks().RefreshDone(t.Context(), hooks.RefreshDoneInfo{Attempt: 1})
	ended := spans.Ended()
	require.Len(t, ended, 1)
	assert.Equal(t, ScopeName, ended[0].InstrumentationScope().Name)
	assert.Equal(t, releaseVersion, ended[0].InstrumentationScope().Version)
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(t.Context(), &rm))
	require.Len(t, rm.ScopeMetrics, 1)
	assert.Equal(t, ScopeName, rm.ScopeMetrics[0].Scope.Name)
	assert.Equal(t, releaseVersion, rm.ScopeMetrics[0].Scope.Version)
}
