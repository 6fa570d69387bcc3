// Package hooks observes what the library's token sources and introspectors
// do, in the style of net/http/httptrace: a [Hooks] value is a struct of
// optional callbacks, set on a config (serviceuser.Config.Hooks and the
// other configs, bearer.Transport.Hooks, introspection.Config.Hooks), each
// called with the context of the work it tells of. No event carries a
// credential, an assertion or a token.
//
// [Slog] logs the events with log/slog, [Join] runs several hooks for each,
// and the module github.com/go-serviceuser/serviceuser/serviceuserotel
// turns them into OpenTelemetry and Prometheus metrics. Which token source
// an event belongs to is told by serviceuser.SourceFromContext.
//
// The package imports nothing of the library's, so that adapters built on
// it need only the callbacks.
package hooks

import (
	"context"
	"reflect"
	"time"
)

// Hooks are optional callbacks for what token sources and introspectors do,
// in the style of net/http/httptrace.ClientTrace: set the fields you need;
// nil fields cost nothing, and fields added later break no one. Callbacks run
// on the goroutine doing the work, after it: they must return quickly. No
// event carries a credential, an assertion or a token. Logging ([Slog]) and
// metrics adapters are built on them; [Join] runs several.
//
// Each callback gets the context of the work it observes, as httptrace's
// callbacks belong to a request's context, so that a logger or a tracer
// finds the caller's values (a trace span, a request id) in it:
//   - RefreshStart, RefreshDone, and DiscoveryDone and CredentialReloaded
//     during a token source's refresh: the refresh's context. It carries the
//     values of the context of the caller that started the refresh and waits
//     for it (Token, TokenContext, a Client's request; none for a refresh
//     ahead of expiry, which keeps no caller waiting), then those of the
//     context the source was made with (TokenSource(ctx)). It never carries
//     a caller's deadline or cancellation, as other callers may share the
//     refresh (context.WithoutCancel's way); it is done once the source is
//     closed. The token request is sent with the same values.
//   - TokenRejected: the context of the request that was refused.
//   - IntrospectionDone: the context of the Introspect call; DiscoveryDone
//     of an introspector: the values of the call that needed the document.
//
// serviceuser.SourceFromContext tells, from that context, which token
// source an event belongs to: hooks shared by several sources tell them
// apart by it.
//
// DiscoveryDone, RefreshStart, RefreshDone and CredentialReloaded run on a
// token source's refresh, which waits for them: calling that source's Token
// or Close from them deadlocks (Token waits for the refresh, which waits for
// the callback; TokenContext waits until its context ends), so hand such
// work to another goroutine. LastError, Ready and Invalidate are safe there.
// A callback that panics is stopped there: the panic is recovered and
// dropped, and the work it observes goes on.
//
// Every field is a func(context.Context, XInfo), where X is the field's
// name: [Join] relies on it.
type Hooks struct {
	// DiscoveryDone follows each fetch of the discovery document.
	DiscoveryDone func(ctx context.Context, info DiscoveryDoneInfo)
	// RefreshStart precedes each token request of a token source.
	RefreshStart func(ctx context.Context, info RefreshStartInfo)
	// RefreshDone follows each token request of a token source, with the
	// context RefreshStart got.
	RefreshDone func(ctx context.Context, info RefreshDoneInfo)
	// TokenRejected follows an API's 401 for a token that a token source's
	// Client or a bearer.Transport sent.
	TokenRejected func(ctx context.Context, info TokenRejectedInfo)
	// CredentialReloaded follows each rotation a serviceuser.RotatingSource
	// reports (a watched credential file of package filewatch, or a source
	// of your own), told at the token source's next token request after it
	// is seen: the new credential is in use, or it was refused (Err) and the
	// old one stays.
	CredentialReloaded func(ctx context.Context, info CredentialReloadedInfo)
	// IntrospectionDone follows each Introspect call that returned an answer
	// or an error: once per call, however many requests its lookup made
	// (a request without an answer is sent again; see
	// introspection.Introspector.Introspect).
	IntrospectionDone func(ctx context.Context, info IntrospectionDoneInfo)
}

// DiscoveryDoneInfo describes a fetch of the discovery document.
type DiscoveryDoneInfo struct {
	// Issuer is the issuer whose document was fetched.
	Issuer string
	// Duration is how long the fetch took.
	Duration time.Duration
	// Err is nil on success.
	Err error
}

// RefreshStartInfo describes a token request that is starting.
type RefreshStartInfo struct {
	// Waited is true when callers wait for this request (no valid token is
	// cached), false for a refresh ahead of expiry.
	Waited bool
	// Attempt counts the requests since the last success, from 1.
	Attempt int
}

// RefreshDoneInfo describes a token request that ended. Waited and Attempt
// are those of its RefreshStartInfo, so that the two can be paired.
type RefreshDoneInfo struct {
	// Waited and Attempt are those of the request's RefreshStartInfo.
	Waited  bool
	Attempt int
	// Duration is how long the request took.
	Duration time.Duration
	// Err is nil on success; then Expiry is when the new token stops being served.
	Err    error
	Expiry time.Time
	// NextAttempt is when the next request may start after a failure (backoff).
	NextAttempt time.Time
}

// TokenRejectedInfo describes an API's 401 answer to a token.
type TokenRejectedInfo struct {
	// InvalidateCalled is true when the token was handed to the source's
	// Invalidate. That does not mean it was dropped: a
	// *serviceuser.TokenSource keeps a newer token, and one younger than
	// 10 s.
	InvalidateCalled bool
	// Retried is true when the request was sent again with a new token.
	Retried bool
}

// CredentialReloadedInfo describes a rotation of a credential source.
type CredentialReloadedInfo struct {
	Path  string // the source's Rotation.Path: a watched file's path
	KeyID string // the key id now in use, for key sources
	Err   error  // why the new credential was refused; nil when it is in use
}

// IntrospectionDoneInfo describes an Introspect call.
type IntrospectionDoneInfo struct {
	// CacheHit is true when the answer came from the introspector's cache,
	// without a request to ZITADEL.
	CacheHit bool
	// Duration is how long the Introspect call took, retries and their
	// pauses included.
	Duration time.Duration
	// Active is ZITADEL's answer. False also when ZITADEL refused the API
	// application's key (wrong or deleted): it answers both alike.
	Active bool
	// Err is nil when ZITADEL answered (Active true or false).
	Err error
}

// Join returns hooks that call each of hooks' callbacks in turn; nil
// entries are skipped. A callback that panics does not keep the next ones
// from running.
func Join(hooks ...*Hooks) *Hooks {
	joined := &Hooks{}
	jv := reflect.ValueOf(joined).Elem()
	for i := range jv.NumField() {
		var fns []reflect.Value
		for _, h := range hooks {
			if h == nil {
				continue
			}
			if fn := reflect.ValueOf(h).Elem().Field(i); !fn.IsNil() {
				fns = append(fns, fn)
			}
		}
		switch len(fns) {
		case 0:
		case 1:
			jv.Field(i).Set(fns[0])
		default:
			jv.Field(i).Set(reflect.MakeFunc(jv.Field(i).Type(), func(args []reflect.Value) []reflect.Value {
				for _, fn := range fns {
					callContained(fn, args)
				}
				return nil
			}))
		}
	}
	return joined
}

// callContained calls fn, dropping its panic, so that the next callback runs.
func callContained(fn reflect.Value, args []reflect.Value) {
	defer func() { _ = recover() }()
	fn.Call(args)
}
