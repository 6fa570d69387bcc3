//go:build unix

package main

import "syscall"

// openFlags open a named pipe without waiting for a writer, and a terminal
// without making it the tool's controlling terminal; on a regular file they
// change nothing.
const openFlags = syscall.O_NONBLOCK | syscall.O_NOCTTY
