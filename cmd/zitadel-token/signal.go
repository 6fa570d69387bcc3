package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
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

// stuckGrace is how long a run cancelled by a signal may take to return
// before the process ends without it; a cancelled run returns in
// milliseconds, unless it waits in a read that does not heed its context.
const stuckGrace = time.Second

// exitMu is held by whichever ends the process: main once the run has
// returned, or the exit that exitWhenStuck schedules.
var exitMu sync.Mutex

// exitWhenStuck ends the process stuckGrace after a signal cancelled ctx,
// with the signal's exit code, should the run not have returned by then:
// opening or reading a named pipe or a device nobody writes to (-key
// <(command), -pat-file, -d @FILE) does not heed ctx, and Ctrl-C must end
// the tool all the same.
func exitWhenStuck(ctx context.Context, stderr io.Writer) {
	context.AfterFunc(ctx, func() {
		s := stoppedBy(ctx)
		if s == nil {
			return
		}
		time.AfterFunc(stuckGrace, func() {
			exitMu.Lock()
			fmt.Fprintf(stderr, "%s: %s\n", progName, s)
			os.Exit(s.code)
		})
	})
}

// readContext reads r to its end, or returns when ctx is done: a terminal
// that nobody types into must not keep Ctrl-C from ending the tool. The
// abandoned read ends with the process.
func readContext(ctx context.Context, r io.Reader) ([]byte, error) {
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := io.ReadAll(r)
		done <- result{data, err}
	}()
	select {
	case res := <-done:
		return res.data, res.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}
