// Package regularfile opens files that must be regular files (credential
// files, cached tokens) without ever waiting: a named pipe put where such a
// file belongs would make a plain open wait until something writes to it.
package regularfile

import (
	"errors"
	"io/fs"
	"os"
)

// ErrNotRegular is the cause of refusing a path that is a directory, a
// named pipe, a device or a socket: none holds a credential.
var ErrNotRegular = errors.New("not a regular file")

// Open opens the regular file at path for reading and returns it with its
// FileInfo, that of the file opened. A path that is not a regular file is
// refused with an *fs.PathError whose Err is ErrNotRegular: when os.Stat
// already says so, without opening it; otherwise, should it have been
// swapped for a pipe or a device since, by a check of the opened file, which
// was opened without waiting for a writer.
func Open(path string) (*os.File, fs.FileInfo, error) {
	if info, err := os.Stat(path); err == nil && !info.Mode().IsRegular() {
		return nil, nil, notRegular(path)
	}
	return openOpened(path)
}

// openOpened is Open without the look before the open: the check is on the
// opened file alone.
func openOpened(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = notRegular(path)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

func notRegular(path string) error {
	return &fs.PathError{Op: "open", Path: path, Err: ErrNotRegular}
}
