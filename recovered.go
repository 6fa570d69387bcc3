package serviceuser

import (
	"fmt"
	"reflect"
	"runtime"

	"golang.org/x/oauth2"
)

// fetchRecovered calls fetch, turning a panic (in a user's RoundTripper, say)
// and a missing token into errors: either would otherwise end the process
// from this background goroutine, where no caller can recover it.
func (ts *TokenSource) fetchRecovered() (tok *oauth2.Token, err error) {
	defer func() {
		if v := recover(); v != nil {
			tok, err = nil, newPanicError(v)
		}
	}()
	tok, err = ts.fetch(ts.bg)
	switch {
	case err != nil:
		tok = nil
	case tok == nil:
		err = errNoToken
	}
	return tok, err
}

// panicError is what a panic during a refresh becomes. It keeps the panic
// value's type and drops the value, whose text may hold the request's
// assertion or secret; only the runtime's own errors (nil map, index out of
// range...) keep their text, which the runtime writes without such data.
type panicError struct{ typ, text string }

func newPanicError(v any) *panicError {
	e := &panicError{typ: fmt.Sprintf("%T", v)}
	if re, ok := v.(runtime.Error); ok && definedInRuntime(reflect.TypeOf(v)) {
		e.text = re.Error()
	}
	return e
}

func (e *panicError) Error() string {
	msg := "serviceuser: token request panicked with a value of type " + e.typ
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
