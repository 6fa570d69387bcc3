package regularfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOpenReadsARegularFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, []byte("content"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, info, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil || string(data) != "content" {
		t.Fatalf("read %q, %v; want the file's content", data, err)
	}
	if !info.Mode().IsRegular() || info.Size() != 7 {
		t.Errorf("info %v, size %d: want the opened file's", info.Mode(), info.Size())
	}
}

// TestOpenRefusesADirectory: os.Open opens a directory; reading it then
// fails with an error that says little. Both the look before the open and
// the check of the opened file refuse it.
func TestOpenRefusesADirectory(t *testing.T) {
	dir := t.TempDir()
	for name, open := range map[string]func(string) (*os.File, fs.FileInfo, error){"Open": Open, "openOpened": openOpened} {
		f, _, err := open(dir)
		if f != nil {
			f.Close()
		}
		var pe *fs.PathError
		if !errors.Is(err, ErrNotRegular) || !errors.As(err, &pe) || pe.Path != dir {
			t.Errorf("%s(directory) = %v; want an *fs.PathError for it with ErrNotRegular", name, err)
		}
	}
}

func TestOpenMissingFile(t *testing.T) {
	_, _, err := Open(filepath.Join(t.TempDir(), "missing"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v; want fs.ErrNotExist", err)
	}
}
