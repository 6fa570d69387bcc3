package main

import (
	"errors"
	"os"
)

// errNotRegular is the cause of refusing a file that is a named pipe, a
// directory or a device where a regular file belongs.
var errNotRegular = errors.New("not a regular file")

// openRegular opens the regular file at path for reading and returns it
// with the FileInfo of the file opened. It never waits: a named pipe put
// where a key file or the token cache belongs would make a plain open wait
// for a writer, so it is opened without waiting (openFlags) and refused
// once opened, as anything else that is not a regular file.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errNotRegular
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}
