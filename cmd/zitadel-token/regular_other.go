//go:build !unix

package main

// openFlags: elsewhere opening a file never waits for a writer (on Windows,
// opening a named pipe that is busy fails at once).
const openFlags = 0
