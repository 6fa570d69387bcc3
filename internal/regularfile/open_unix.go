//go:build unix

package regularfile

import "syscall"

// openFlags open a named pipe without waiting for a writer, and a terminal
// without making it the process's controlling terminal; on a regular file
// they change nothing.
const openFlags = syscall.O_NONBLOCK | syscall.O_NOCTTY
