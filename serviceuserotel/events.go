package serviceuserotel

import (
	"context"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/serviceuserotel/internal/describe"
)

// Attribute keys of the library's own.
const (
	keyOutcome          = attribute.Key("serviceuser.outcome")
	keyMode             = attribute.Key("serviceuser.refresh.mode")
	keyAttempt          = attribute.Key("serviceuser.refresh.attempt")
	keyEndpoint         = attribute.Key("serviceuser.endpoint")
	keyCode             = attribute.Key("serviceuser.error.code")
	keyInvalidateCalled = attribute.Key("serviceuser.rejection.invalidate_called")
	keyRetried          = attribute.Key("serviceuser.rejection.retried")
	keyCacheHit         = attribute.Key("serviceuser.cache_hit")
	keyActive           = attribute.Key("serviceuser.introspection.active")
	keyExpiry           = attribute.Key("serviceuser.token.expiry")
	keyNext             = attribute.Key("serviceuser.refresh.next_attempt")
)

func (r *Recorder) refreshStart(ctx context.Context, i hooks.RefreshStartInfo) {
	span := r.startSpan(ctx, i.Waited, i.Attempt)
	key := pendingKey{serviceuser.SourceFromContext(ctx), i.Attempt}
	r.mu.Lock()
	old := r.pending[key]
	r.pending[key] = span
	r.mu.Unlock()
	if old != nil { // a start whose end never came: it can only be ended here
		old.End()
	}
}

func (r *Recorder) refreshDone(ctx context.Context, i hooks.RefreshDoneInfo) {
	d := describe.Err(i.Err)
	mode := keyMode.String(describe.Mode(i.Waited))
	outcome := keyOutcome.String(describe.Outcome(i.Err))
	span := r.endSpan(ctx, i, d, outcome)
	ctx = trace.ContextWithSpan(ctx, span) // exemplars point at the request's span
	r.refreshes.Add(ctx, 1, metric.WithAttributes(append(errAttrs(d), outcome, mode)...))
	r.refreshDuration.Record(ctx, i.Duration.Seconds(), metric.WithAttributes(append(errType(d), outcome, mode)...))
	if i.Err == nil {
		r.expiry.Set(i.Expiry)
	}
}

// startSpan opens the span of a token request: a child of the span in ctx
// when callers wait for it (ctx then carries the waiting caller's), else a
// root span linked to the span in ctx, if any (a refresh ahead of expiry
// belongs to no caller's trace).
func (r *Recorder) startSpan(ctx context.Context, waited bool, attempt int, opts ...trace.SpanStartOption) trace.Span {
	opts = append(opts, trace.WithAttributes(keyMode.String(describe.Mode(waited)), keyAttempt.Int(attempt)))
	if !waited {
		opts = append(opts, trace.WithNewRoot())
		if link := trace.LinkFromContext(ctx); link.SpanContext.IsValid() {
			opts = append(opts, trace.WithLinks(link))
		}
	}
	_, span := r.tracer.Start(ctx, SpanName, opts...)
	return span
}

// endSpan ends the token request's span and returns it: the one
// RefreshStart opened for the same source and attempt, or one spanning
// i.Duration when none is open (hooks set after the start).
func (r *Recorder) endSpan(ctx context.Context, i hooks.RefreshDoneInfo, d describe.Detail, outcome attribute.KeyValue) trace.Span {
	now := time.Now()
	key := pendingKey{serviceuser.SourceFromContext(ctx), i.Attempt}
	r.mu.Lock()
	span := r.pending[key]
	delete(r.pending, key)
	r.mu.Unlock()
	if span == nil {
		span = r.startSpan(ctx, i.Waited, i.Attempt, trace.WithTimestamp(now.Add(-i.Duration)))
	}
	span.SetAttributes(outcome)
	if i.Err != nil {
		span.SetAttributes(errAttrs(d)...)
		if !i.NextAttempt.IsZero() {
			span.SetAttributes(keyNext.String(i.NextAttempt.UTC().Format(time.RFC3339Nano)))
		}
		span.SetStatus(codes.Error, d.Type) // the type, never the error's text
	} else if !i.Expiry.IsZero() {
		span.SetAttributes(keyExpiry.String(i.Expiry.UTC().Format(time.RFC3339Nano)))
	}
	span.End(trace.WithTimestamp(now))
	return span
}

// tokenRejected counts a refused token; TokenRejected tells of 401s only.
func (r *Recorder) tokenRejected(ctx context.Context, i hooks.TokenRejectedInfo) {
	r.rejections.Add(ctx, 1, metric.WithAttributes(
		semconv.HTTPResponseStatusCode(http.StatusUnauthorized), keyInvalidateCalled.Bool(i.InvalidateCalled), keyRetried.Bool(i.Retried)))
}

func (r *Recorder) credentialReloaded(ctx context.Context, i hooks.CredentialReloadedInfo) {
	d := describe.Err(i.Err)
	r.reloads.Add(ctx, 1, metric.WithAttributes(
		append(errType(d), keyOutcome.String(describe.ReloadOutcome(i.Err)))...))
}

func (r *Recorder) discoveryDone(ctx context.Context, i hooks.DiscoveryDoneInfo) {
	outcome := keyOutcome.String(describe.Outcome(i.Err))
	r.discoveries.Add(ctx, 1, metric.WithAttributes(append(errType(describe.Err(i.Err)), outcome)...))
	r.discoveryDuration.Record(ctx, i.Duration.Seconds(), metric.WithAttributes(outcome))
}

func (r *Recorder) introspectionDone(ctx context.Context, i hooks.IntrospectionDoneInfo) {
	base := []attribute.KeyValue{keyOutcome.String(describe.Outcome(i.Err)), keyCacheHit.Bool(i.CacheHit)}
	count := append(errType(describe.Err(i.Err)), base...)
	if i.Err == nil {
		count = append(count, keyActive.Bool(i.Active))
	}
	r.introspections.Add(ctx, 1, metric.WithAttributes(count...))
	r.introspectionDuration.Record(ctx, i.Duration.Seconds(), metric.WithAttributes(base...))
}

// errType is error.type for an error, nothing for none.
func errType(d describe.Detail) []attribute.KeyValue {
	if d.Type == "" {
		return nil
	}
	return []attribute.KeyValue{semconv.ErrorTypeKey.String(d.Type)}
}

// errAttrs are error.type and, for a token error, its endpoint, status and code.
func errAttrs(d describe.Detail) []attribute.KeyValue {
	attrs := errType(d)
	if d.Endpoint != "" {
		attrs = append(attrs, keyEndpoint.String(d.Endpoint))
	}
	if d.StatusCode != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCode(d.StatusCode))
	}
	if d.Code != "" {
		attrs = append(attrs, keyCode.String(d.Code))
	}
	return attrs
}
