//go:build unix

package filewatch_test

import (
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/filewatch"
)

// TestWatchedFileBecomesAPipe replaces a watched secret file by a named pipe
// that nothing writes to. Opening it would block the token request, and
// Close with it, until a writer came: the watcher must refuse it unopened.
// A prober opens the pipe for writing without blocking, which succeeds only
// while a reader is opening it: it tells, without a clock, that the watcher
// was caught.
func TestWatchedFileBecomesAPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(path, []byte("s3cret-in-use"), 0o600))
	sw, err := filewatch.NewSecretSource(path)
	require.NoError(t, err)
	require.NoError(t, os.Remove(path))
	require.NoError(t, syscall.Mkfifo(path, 0o600))

	result := make(chan serviceuser.Secret, 1)
	go func() {
		s, _ := sw.CurrentSecret()
		result <- s
	}()
	secret, caught := probeReader(path, result)
	require.False(t, caught, "the watcher opened the pipe, and blocked until a writer came")
	assert.Equal(t, "s3cret-in-use", string(secret))
	var ce *serviceuser.CredentialError
	require.ErrorAs(t, sw.Rotation().Err, &ce)
	assert.Contains(t, ce.Error(), "not a regular file")
}

// probeReader waits for result while trying to open the pipe at path for
// writing; that succeeds only while a reader is opening it (caught), and
// releases that reader.
func probeReader(path string, result <-chan serviceuser.Secret) (s serviceuser.Secret, caught bool) {
	for {
		select {
		case s = <-result:
			return s, caught
		default:
		}
		if !caught {
			if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
				caught = true
			}
		}
		runtime.Gosched()
	}
}
