package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes of a run ended by a signal: 128 plus the signal's number, as
// shells report it.
const (
	exitInterrupted = 130 // SIGINT, Ctrl-C
	exitTerminated  = 143 // SIGTERM
)

// stopped is the cause of a context cancelled by a signal.
type stopped struct {
	what string // "interrupted" or "terminated"
	code int
}

func (s *stopped) Error() string { return s.what }

// signalContext returns a context that SIGINT and SIGTERM cancel with a
// *stopped cause, and the function that stops catching them. One context
// per signal tells which signal came.
func signalContext() (context.Context, func()) {
	interrupted, stopInt := signal.NotifyContext(context.Background(), os.Interrupt)
	terminated, stopTerm := signal.NotifyContext(interrupted, syscall.SIGTERM)
	ctx, cancel := context.WithCancelCause(context.Background())
	stopWatch := context.AfterFunc(terminated, func() {
		if interrupted.Err() != nil {
			cancel(&stopped{"interrupted", exitInterrupted})
		} else {
			cancel(&stopped{"terminated", exitTerminated})
		}
	})
	return ctx, func() { stopWatch(); stopTerm(); stopInt(); cancel(nil) }
}

// stoppedBy returns the signal that cancelled ctx, or nil.
func stoppedBy(ctx context.Context) *stopped {
	var s *stopped
	if errors.As(context.Cause(ctx), &s) {
		return s
	}
	return nil
}
