// Package contain keeps a panic in code the library runs but does not own (a
// hook, the RoundTripper of a user's HTTP client) from ending the process:
// such code often runs on a goroutine the library started, where no caller
// can recover it.
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

// Call runs f and turns its panic into a *PanicError; what names the work
// in the error ("token request"). As with Hook, runtime.Goexit in f still
// ends the goroutine.
func Call[T any](what string, f func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			var zero T
			v, err = zero, newPanicError(what, p)
		}
	}()
	return f()
}

// PanicError is what a panic during a request becomes. It keeps the panic
// value's type and drops the value, whose text may hold the request's
// assertion, secret or token; only the runtime's own errors (nil map, index
// out of range...) keep their text, which the runtime writes without such
// data.
type PanicError struct{ what, typ, text string }

func newPanicError(what string, v any) *PanicError {
	e := &PanicError{what: what, typ: fmt.Sprintf("%T", v)}
	if re, ok := v.(runtime.Error); ok && definedInRuntime(reflect.TypeOf(v)) {
		e.text = re.Error()
	}
	return e
}

func (e *PanicError) Error() string {
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
