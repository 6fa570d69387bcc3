//go:build unix

package main

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOpenRegularRefusesAPipeAtOnce: a named pipe that nobody writes to is
// refused, not waited on (a plain open would block this test until its
// timeout); a regular file opens.
func TestOpenRegularRefusesAPipeAtOnce(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	if f, _, err := openRegular(pipe); !errors.Is(err, errNotRegular) {
		if f != nil {
			f.Close()
		}
		t.Fatalf("named pipe: %v, want %v", err, errNotRegular)
	}
	if _, _, err := openRegular(dir); !errors.Is(err, errNotRegular) {
		t.Fatalf("directory: %v, want %v", err, errNotRegular)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, fi, err := openRegular(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if fi.Size() != 1 {
		t.Errorf("size %d, want 1", fi.Size())
	}
}
