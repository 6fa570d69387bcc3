//go:build unix

package regularfile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestOpenNeverWaitsOnAPipe: a named pipe that nothing writes to is refused
// at once, by the look before the open and, should the path have become a
// pipe after that look, by the check of the file opened without waiting.
// Should an open wait, the test ends the wait by opening the pipe for
// writing.
func TestOpenNeverWaitsOnAPipe(t *testing.T) {
	pipe := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func(string) (*os.File, os.FileInfo, error){"Open": Open, "openOpened": openOpened} {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				f, _, err := open(pipe)
				if f != nil {
					f.Close()
				}
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second): // reached only by an open that waits
				t.Error("still waiting on the named pipe after 10 s")
				err = release(pipe, done)
			}
			if !errors.Is(err, ErrNotRegular) {
				t.Errorf("%s(pipe) = %v; want ErrNotRegular", name, err)
			}
		})
	}
}

// release opens the pipe at path for writing until the open waiting on it
// returns its error on done.
func release(path string, done <-chan error) error {
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
