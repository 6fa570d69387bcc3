//go:build unix

package serviceuser_test

import (
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/filewatch"
)

// TestCredentialFilesAreNeverWaitedOn: every function that reads a
// credential file, given a named pipe that nothing writes to, refuses it at
// once as not a regular file. Opening a pipe for reading waits for a writer:
// a token request, and Close with it, would hang. Should a reader wait, the
// test ends the wait by opening the pipe for writing.
func TestCredentialFilesAreNeverWaitedOn(t *testing.T) {
	pipe := filepath.Join(t.TempDir(), "pipe")
	require.NoError(t, syscall.Mkfifo(pipe, 0o600))
	readers := map[string]func() error{
		"ReadKeyFile":               func() error { _, err := serviceuser.ReadKeyFile(pipe); return err },
		"KeyFileFromEnv":            func() error { _, err := serviceuser.KeyFileFromEnv("SERVICEUSER_TEST_KEY_PATH"); return err },
		"ReadPAT":                   func() error { _, err := serviceuser.ReadPAT(pipe); return err },
		"filewatch.NewKeySource":    func() error { _, err := filewatch.NewKeySource(pipe); return err },
		"filewatch.NewSecretSource": func() error { _, err := filewatch.NewSecretSource(pipe); return err },
	}
	t.Setenv("SERVICEUSER_TEST_KEY_PATH", pipe)
	for name, read := range readers {
		t.Run(name, func(t *testing.T) {
			err := withoutWaitingOn(t, pipe, read)
			var ce *serviceuser.CredentialError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), "not a regular file")
		})
	}
}

// withoutWaitingOn runs read and returns its error; if read is still waiting
// on the named pipe at path after a generous while, it fails the test and
// releases read by opening the pipe for writing.
func withoutWaitingOn(t *testing.T, path string, read func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- read() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second): // reached only by a reader that waits
	}
	t.Errorf("still waiting on the named pipe after 10 s")
	for {
		select {
		case err := <-done:
			return err
		default:
		}
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		runtime.Gosched()
	}
}
