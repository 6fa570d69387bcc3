package serviceuserotel

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceuserotel/internal/describe"
)

// ScopeName is the instrumentation scope of the meter and tracer.
const ScopeName = "github.com/go-serviceuser/serviceuser/serviceuserotel"

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

// Recorder turns the events of one token source (and of introspectors, if
// wanted) into metrics and spans. Give its Hooks to ONE token source: a
// source runs at most one token request at a time, and the Recorder keeps
// one open span for it. Its methods are safe for concurrent use.
type Recorder struct {
	instruments
	tracer trace.Tracer
	expiry describe.Expiry
	reg    metric.Registration
	hooks  *serviceuser.Hooks

	mu      sync.Mutex
	pending trace.Span // the span of the token request under way
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
	r := &Recorder{tracer: o.tracers.Tracer(ScopeName)}
	meter := o.meters.Meter(ScopeName)
	if err := r.instruments.init(meter); err != nil {
		return nil, err
	}
	reg, err := meter.RegisterCallback(r.observe, r.remaining)
	if err != nil {
		return nil, err
	}
	r.reg = reg
	r.hooks = &serviceuser.Hooks{
		DiscoveryDone:      r.discoveryDone,
		RefreshStart:       r.refreshStart,
		RefreshDone:        r.refreshDone,
		TokenRejected:      r.tokenRejected,
		CredentialReloaded: r.credentialReloaded,
		IntrospectionDone:  r.introspectionDone,
	}
	return r, nil
}

// Hooks returns the hooks to set on one token source's config (and on
// introspectors' configs); the same value on every call. Combine them with
// others with serviceuser.JoinHooks.
func (r *Recorder) Hooks() *serviceuser.Hooks { return r.hooks }

// Close stops the remaining lifetime gauge, so that the MeterProvider no
// longer refers to the Recorder, and ends a span left open by a token
// request that never ended. Events after Close are still counted.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if r.pending != nil {
		r.pending.End()
		r.pending = nil
	}
	r.mu.Unlock()
	return r.reg.Unregister()
}

// observe reports the remaining lifetime of the last token, once there is one.
func (r *Recorder) observe(_ context.Context, o metric.Observer) error {
	if s, ok := r.expiry.Remaining(time.Now()); ok {
		o.ObserveFloat64(r.remaining, s)
	}
	return nil
}
