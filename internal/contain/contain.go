// Package contain keeps a panic in code the library runs but does not own (a
// hook, the RoundTripper of a user's HTTP client, a crypto.Signer) from
// ending the process, and its runtime.Goexit (t.FailNow in a test's
// RoundTripper, say) from leaving the callers waiting: such code often runs
// on a goroutine the library started, where no caller can recover it.
package contain

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
)

// Hook runs a callback, if set, with the context of the work it observes,
// and drops its panic: a bug in logging or metrics code must neither end the
// process nor fail that work. runtime.Goexit is no panic: it still ends the
// goroutine.
func Hook[I any](fn func(context.Context, I), ctx context.Context, i I) {
	if fn == nil {
		return
	}
	defer func() { _ = recover() }()
	fn(ctx, i)
}

// Go runs f on a goroutine of its own and hands its outcome to done, on
// that goroutine. A panic in f becomes a *PanicError, and so does a
// runtime.Goexit, which no recover stops: whoever waits for done always
// hears back. what names the work in the error ("token request").
func Go[T any](what string, f func() (T, error), done func(T, error)) {
	go func() {
		var v T
		var err error = &PanicError{what: what, goexit: true} // kept only if f ends the goroutine
		defer func() { done(v, err) }()
		v, err = recovered(what, f)
	}()
}

// Call runs f as Go does and returns its outcome.
func Call[T any](what string, f func() (T, error)) (T, error) {
	type outcome struct {
		v   T
		err error
	}
	ch := make(chan outcome, 1)
	Go(what, f, func(v T, err error) { ch <- outcome{v, err} })
	o := <-ch
	return o.v, o.err
}

// recovered runs f and turns its panic into a *PanicError.
func recovered[T any](what string, f func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			var zero T
			v, err = zero, newPanicError(what, p)
		}
	}()
	return f()
}

// PanicError is what a panic during a request becomes, or a
// runtime.Goexit. It keeps the panic value's type and drops the value, whose
// text may hold the request's assertion, secret or token; only the runtime's
// own errors (nil map, index out of range...) keep their text, which the
// runtime writes without such data.
type PanicError struct {
	what, typ, text string
	goexit          bool
}

func newPanicError(what string, v any) *PanicError {
	e := &PanicError{what: what, typ: fmt.Sprintf("%T", v)}
	e.text, _ = RuntimeText(v)
	return e
}

// RuntimeText returns the text of a panic value that is one of the
// runtime's own errors (nil map, index out of range...), and false for any
// other value, whose text may hold secrets: a type outside package runtime
// may claim to be a runtime.Error.
func RuntimeText(v any) (string, bool) {
	if re, ok := v.(runtime.Error); ok && definedInRuntime(reflect.TypeOf(v)) {
		return re.Error(), true
	}
	return "", false
}

func (e *PanicError) Error() string {
	if e.goexit {
		return "serviceuser: " + e.what + " ended without an answer: a callback called runtime.Goexit"
	}
	msg := "serviceuser: " + e.what + " panicked with a value of type " + e.typ
	if e.text != "" {
		return msg + ": " + e.text
	}
	return msg + " (its text is left out: it may hold secrets)"
}

// definedInRuntime reports whether t, or what it points to, is a type of
// package runtime.
func definedInRuntime(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath() == "runtime"
}
