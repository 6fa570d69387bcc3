package serviceuserotel

import (
	"context"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/serviceuserotel/internal/describe"
)

// ScopeName is the instrumentation scope of the meter and tracer; the
// scope's version is this module's (see moduleVersion).
const ScopeName = "github.com/go-serviceuser/serviceuser/serviceuserotel"

// releaseVersion is this module's version where the build does not tell it
// (a module built from a directory, or this module's own tests). Keep it
// equal to the module's latest release.
const releaseVersion = "v0.1.0"

// moduleVersion is the version of this module in the running program, as
// its build recorded it, else releaseVersion.
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return releaseVersion
	}
	return versionIn(bi)
}

// versionIn is this module's version in bi: the main module's, or that of
// the dependency (or of what replaces it), when it is a version and not
// "(devel)" or a directory; releaseVersion otherwise.
func versionIn(bi *debug.BuildInfo) string {
	m := &bi.Main
	if m.Path != ScopeName {
		m = nil
		for _, d := range bi.Deps {
			if d.Path == ScopeName {
				m = d
				break
			}
		}
	}
	if m == nil {
		return releaseVersion
	}
	if m.Replace != nil {
		m = m.Replace
	}
	if !strings.HasPrefix(m.Version, "v") {
		return releaseVersion
	}
	return m.Version
}

// SpanName is the name of the span of each token request.
const SpanName = "serviceuser.token.refresh"

// Option configures New.
type Option func(*options)

type options struct {
	meters  metric.MeterProvider
	tracers trace.TracerProvider
}

// WithMeterProvider records metrics through mp instead of the global
// MeterProvider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) { o.meters = mp }
}

// WithTracerProvider records spans through tp instead of the global
// TracerProvider.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracers = tp }
}

// Recorder turns the events of token sources and introspectors into
// metrics and spans. One Recorder serves any number of sources: it keeps the
// span of each source's token request under way apart from the others' (by
// serviceuser.SourceFromContext), so that each span ends with its own
// request. Its methods are safe for concurrent use.
type Recorder struct {
	instruments
	tracer trace.Tracer
	expiry describe.Expiry
	reg    metric.Registration
	hooks  *hooks.Hooks

	mu      sync.Mutex
	pending map[pendingKey]trace.Span // the spans of the token requests under way
}

// pendingKey names a token request under way: a source makes one at a
// time, and its RefreshStart and RefreshDone share the attempt number.
type pendingKey struct {
	source  *serviceuser.TokenSource // nil for events outside a token source
	attempt int
}

// New makes a Recorder. It fails only when the MeterProvider refuses an
// instrument or the gauge's callback.
func New(opts ...Option) (*Recorder, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.meters == nil { // also when an option gave nil
		o.meters = otel.GetMeterProvider()
	}
	if o.tracers == nil {
		o.tracers = otel.GetTracerProvider()
	}
	version := moduleVersion()
	r := &Recorder{tracer: o.tracers.Tracer(ScopeName, trace.WithInstrumentationVersion(version)), pending: map[pendingKey]trace.Span{}}
	meter := o.meters.Meter(ScopeName, metric.WithInstrumentationVersion(version))
	if err := r.instruments.init(meter); err != nil {
		return nil, err
	}
	reg, err := meter.RegisterCallback(r.observe, r.remaining)
	if err != nil {
		return nil, err
	}
	r.reg = reg
	r.hooks = &hooks.Hooks{
		DiscoveryDone:      r.discoveryDone,
		RefreshStart:       r.refreshStart,
		RefreshDone:        r.refreshDone,
		TokenRejected:      r.tokenRejected,
		CredentialReloaded: r.credentialReloaded,
		IntrospectionDone:  r.introspectionDone,
	}
	return r, nil
}

// Hooks returns the hooks to set on token sources' and introspectors'
// configs; the same value on every call. Combine them with others with
// hooks.Join.
func (r *Recorder) Hooks() *hooks.Hooks { return r.hooks }

// Close stops the remaining lifetime gauge, so that the MeterProvider no
// longer refers to the Recorder, and ends the spans left open by token
// requests that never ended. Events after Close are still counted.
func (r *Recorder) Close() error {
	r.mu.Lock()
	open := r.pending
	r.pending = map[pendingKey]trace.Span{}
	r.mu.Unlock()
	for _, span := range open {
		span.End()
	}
	return r.reg.Unregister()
}

// observe reports the remaining lifetime of the last token, once there is one.
func (r *Recorder) observe(_ context.Context, o metric.Observer) error {
	if s, ok := r.expiry.Remaining(time.Now()); ok {
		o.ObserveFloat64(r.remaining, s)
	}
	return nil
}
