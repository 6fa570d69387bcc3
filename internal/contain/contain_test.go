package contain

import (
	"errors"
	"runtime"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestCallReturnsOutcome(t *testing.T) {
	v, err := Call("work", func() (int, error) { return 7, nil })
	assert.Equal(t, 7, v)
	assert.NoError(t, err)
	cause := errors.New("failed")
	v, err = Call("work", func() (int, error) { return 0, cause })
	assert.Zero(t, v)
	assert.Same(t, cause, err)
}

// TestCallPanicKeepsTypeOnly: a panic's value may hold a secret; its type
// is named, its text only when the runtime wrote it.
func TestCallPanicKeepsTypeOnly(t *testing.T) {
	_, err := Call("token request", func() (int, error) { panic(errors.New("assertion=eyJ.secret")) })
	var pe *PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "serviceuser: token request panicked with a value of type *errors.errorString (its text is left out: it may hold secrets)", err.Error())

	_, err = Call("token request", func() (int, error) {
		var m map[string]int
		m["x"]++
		return 0, nil
	})
	assert.ErrorContains(t, err, "panicked with a value of type runtime.plainError: assignment to entry in nil map")
}

// TestGoexitIsHeardBack: runtime.Goexit, which no recover stops, still hands
// done an error, on f's goroutine, which then ends.
func TestGoexitIsHeardBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := make(chan error, 1)
		Go("introspection request", func() (int, error) {
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
	_, err := Call("token request", func() (int, error) { runtime.Goexit(); return 0, nil })
	var pe *PanicError
	assert.ErrorAs(t, err, &pe)
}

func TestHookDropsPanic(t *testing.T) {
	calls := 0
	assert.NotPanics(t, func() { Hook(func(int) { calls++; panic("a bug in a log handler") }, 1) })
	assert.Equal(t, 1, calls)
	assert.NotPanics(t, func() { Hook[int](nil, 1) })
}
