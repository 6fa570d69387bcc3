package contain_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-serviceuser/serviceuser/internal/contain"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// secret stands for an assertion, a secret or a token that a panic value
// may carry in its text.
const secret = "SENTINEL-assertion-eyJhbGciOi"

// secretError is an error whose text holds the secret.
type secretError struct{}

func (secretError) Error() string { return "request with " + secret + " failed" }

// posingError claims to be a runtime error but is defined outside package
// runtime: its text may hold anything.
type posingError struct{ secretError }

func (posingError) RuntimeError() {}

var _ runtime.Error = posingError{}

// writeTo writes the secret into m, which panics if m is nil.
func writeTo(m map[string]int) { m[secret] = 1 }

// onOwnGoroutine runs f on a goroutine of its own and reports whether f
// returned (false: the goroutine ended inside f).
func onOwnGoroutine(f func()) (returned bool) {
	done := make(chan bool)
	go func() {
		finished := false
		defer func() { done <- finished }()
		f()
		finished = true
	}()
	return <-done
}

func TestHookCallsTheCallback(t *testing.T) {
	var got []int
	contain.Hook(func(_ context.Context, i int) { got = append(got, i) }, context.Background(), 7)
	contain.Hook[int](nil, context.Background(), 8)
	assert.Equal(t, []int{7}, got, "a nil callback is skipped")
}

func TestHookDropsPanics(t *testing.T) {
	for name, v := range map[string]any{
		"string": secret,
		"error":  secretError{},
		"nil":    nil,
	} {
		t.Run(name, func(t *testing.T) {
			returned := onOwnGoroutine(func() {
				contain.Hook(func(context.Context, string) { panic(v) }, context.Background(), "info")
			})
			assert.True(t, returned, "the caller goes on after the panic")
		})
	}
	assert.True(t, onOwnGoroutine(func() {
		contain.Hook(func(context.Context, string) { writeTo(nil) }, context.Background(), "info")
	}), "a runtime error in the callback is dropped too")
}

// TestHookDoesNotStopGoexit: runtime.Goexit (t.FailNow in a test's
// callback) is not a panic; it still ends the goroutine that ran the hook.
func TestHookDoesNotStopGoexit(t *testing.T) {
	assert.False(t, onOwnGoroutine(func() {
		contain.Hook(func(context.Context, string) { runtime.Goexit() }, context.Background(), "info")
	}))
}

func TestCallPassesReturnsThrough(t *testing.T) {
	v, err := contain.Call("token request", func() (string, error) { return "token", nil })
	require.NoError(t, err)
	assert.Equal(t, "token", v)

	refused := errors.New("refused")
	v, err = contain.Call("token request", func() (string, error) { return "partial", refused })
	assert.Same(t, refused, err, "the error is returned as it is")
	assert.Equal(t, "partial", v)
}

// TestCallTurnsPanicIntoError: a panic becomes a *PanicError naming the work
// and the value's type; the value's text is left out unless the value is
// one of the runtime's own errors, whose text (worded by the Go release) is
// kept as the runtime wrote it.
func TestCallTurnsPanicIntoError(t *testing.T) {
	const prefix = "serviceuser: token request panicked with a value of type "
	const dropped = " (its text is left out: it may hold secrets)"
	for _, c := range []struct {
		name  string
		panic func()
		want  string // "": the runtime's own error, its text kept
	}{
		{"string", func() { panic("bad " + secret) }, prefix + "string" + dropped},
		{"error", func() { panic(secretError{}) }, prefix + "contain_test.secretError" + dropped},
		{"pointer to error", func() { panic(&secretError{}) }, prefix + "*contain_test.secretError" + dropped},
		{"runtime.Error defined elsewhere", func() { panic(posingError{}) }, prefix + "contain_test.posingError" + dropped},
		{"nil map", func() { writeTo(nil) }, ""},
		{"index out of range", func() { s := []string{secret}; i := 5; _ = s[i] }, ""},
		{"nil", func() { panic(nil) }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			if want == "" {
				re := recovered(c.panic).(runtime.Error)
				want = fmt.Sprintf("%s%T: %s", prefix, re, re.Error())
			}
			v, err := contain.Call("token request", func() (int, error) {
				c.panic()
				return 1, nil
			})
			assert.Zero(t, v)
			var pe *contain.PanicError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, want, err.Error())
			assert.NotContains(t, err.Error(), secret)
		})
	}
}

// recovered returns the value f panics with.
func recovered(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

// TestGoexitIsHeardBack: runtime.Goexit in f ends only the goroutine Go
// started; whoever waits hears back a *PanicError, so that no caller waits
// forever for work that cannot finish.
func TestGoexitIsHeardBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := make(chan error, 1)
		contain.Go("introspection request", func() (int, error) {
			runtime.Goexit()
			return 1, nil
		}, func(v int, err error) {
			assert.Zero(t, v)
			done <- err
		})
		err := <-done
		assert.EqualError(t, err, "serviceuser: introspection request ended without an answer: a callback called runtime.Goexit")
		synctest.Wait() // the goroutine has ended: the bubble would not end otherwise
	})
	assert.True(t, onOwnGoroutine(func() {
		_, err := contain.Call("token request", func() (int, error) { runtime.Goexit(); return 1, nil })
		var pe *contain.PanicError
		assert.ErrorAs(t, err, &pe)
	}))
}
