//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A named pipe where the token file should be, or a link to one, is not
// opened: opening a pipe for reading waits for a writer, which would hang
// the tool. It is replaced, like any file that is not private.
func TestTokenCacheNamedPipe(t *testing.T) {
	f := newFixture(t)
	base := t.TempDir()
	env := map[string]string{"XDG_CACHE_HOME": base}
	f.cachedToken(t, env)
	file := onlyCacheFile(t, base)
	pipe := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	spoil := map[string]func() error{
		"named pipe":              func() error { os.Remove(file); return syscall.Mkfifo(file, 0o600) },
		"symlink to a named pipe": func() error { os.Remove(file); return os.Symlink(pipe, file) },
	}
	for name, spoilIt := range spoil {
		t.Run(name, func(t *testing.T) {
			if err := spoilIt(); err != nil {
				t.Fatal(err)
			}
			f.checkCacheReplaced(t, env, file)
		})
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".token-*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %q", left)
	}
}
