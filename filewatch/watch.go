package filewatch

import (
	"crypto/sha256"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/internal/credfile"
)

// Watching a credential file for rotation. A Kubernetes Secret update swaps
// a "..data" symlink, other tools rename a new file into place or rewrite it
// in place. os.Stat follows links, so a change shows in the file's size,
// modification time or identity (os.SameFile); the file is read again only
// then (or while its modification time is too recent to tell), and its
// content compared with what was read last. The read opens
// only a regular file, checked once opened: a path swapped for a named pipe
// after the look is refused, never waited on.

// pollInterval bounds how often the file is looked at on paths that may run
// on every call (a source in backoff); a token request always looks.
const pollInterval = time.Second

// keptNote ends the error for a refused file.
const keptNote = "the previous credential stays in use"

// fileWatch holds the last good credential read from a file, and reads the
// file again when it changes. A changed file is taken only if parse (and
// accept, given the credential in use) take it; otherwise the error is kept
// and the credential in use stays.
type fileWatch[T any] struct {
	path, kind string
	parse      func(data []byte) (T, error)
	accept     func(cur, next T) error

	mu       sync.Mutex
	state    watchState[T]
	file     fileState // of the content read last, taken or not
	polledAt time.Time
}

// watchState is what a poll returns: the credential in use, the count by
// which each user of the watch tells a new one (see
// serviceuser.Rotation.Changes), and why the latest reload was refused.
type watchState[T any] struct {
	cur T
	gen uint64 // credentials taken after the first
	err error  // why the latest reload was refused; nil when taken
}

// timestampTick bounds how coarsely file systems keep modification times
// (FAT: 2 s; others to the second, or to the kernel's clock tick).
const timestampTick = 2 * time.Second

// fileState identifies what was read from the file.
type fileState struct {
	info   os.FileInfo // of the file opened for the read; nil when unknown
	sum    [sha256.Size]byte
	readAt time.Time
}

func newFileState(info os.FileInfo, data []byte) fileState {
	return fileState{info: info, sum: sha256.Sum256(data), readAt: time.Now()}
}

// unchanged reports whether info describes the file that was read. A file
// modified within a timestamp tick of the read may have been written again
// in the same tick, with the same size, after the read: it counts as
// changed, so that it is read (and its content compared) again.
func (s fileState) unchanged(info os.FileInfo) bool {
	return s.info != nil && info.Size() == s.info.Size() &&
		info.ModTime().Equal(s.info.ModTime()) && os.SameFile(info, s.info) &&
		s.info.ModTime().Before(s.readAt.Add(-timestampTick))
}

// newFileWatch reads and parses the file once; its errors are those of
// reading the credential without watching.
func newFileWatch[T any](path, kind string, parse func([]byte) (T, error)) (*fileWatch[T], error) {
	data, info, e := credfile.Read(path, kind, "")
	if e != nil {
		return nil, credentialError(e)
	}
	cur, err := parse(data)
	if err != nil {
		return nil, err
	}
	w := &fileWatch[T]{path: path, kind: kind, parse: parse}
	w.state.cur, w.file = cur, newFileState(info, data)
	w.polledAt = time.Now()
	return w, nil
}

// poll looks at the file, at most once per pollInterval unless force, and
// returns the state after it.
func (w *fileWatch[T]) poll(force bool) watchState[T] {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now := time.Now(); force || now.Sub(w.polledAt) >= pollInterval {
		w.polledAt = now
		w.reload()
	}
	return w.state
}

// reload reads the file again if it changed, and takes or refuses it.
func (w *fileWatch[T]) reload() {
	if info, err := os.Stat(w.path); err == nil && w.file.unchanged(info) {
		return
	}
	// The path may have changed since the look: what was read is checked
	// and described by the file opened (never waiting on a named pipe).
	data, info, e := credfile.Read(w.path, w.kind, "")
	if e != nil {
		w.file = fileState{} // read again at the next poll
		w.refuse(credentialError(e))
		return
	}
	read := newFileState(info, data)
	if read.sum == w.file.sum { // a zero sum (nothing read) matches no content
		w.file = read // touched or replaced by the same content
		return
	}
	w.file = read
	next, err := w.parse(data)
	if err == nil && w.accept != nil {
		err = w.accept(w.state.cur, next)
	}
	if err != nil {
		w.refuse(err)
		return
	}
	w.state.cur, w.state.err = next, nil
	w.state.gen++
}

// refuse keeps the credential in use and records why the file was refused;
// the same error again (a file still missing) is recorded once.
func (w *fileWatch[T]) refuse(cause error) {
	err := w.refusal(cause)
	if w.state.err != nil && w.state.err.Error() == err.Error() {
		return
	}
	w.state.err = err
}

// refusal is the error for a refused file: a *serviceuser.CredentialError
// that names the file when its path is plainly a path, and never its
// content.
func (w *fileWatch[T]) refusal(cause error) error {
	var ce *serviceuser.CredentialError
	if errors.As(cause, &ce) {
		refused := *ce
		refused.Problem += "; " + keptNote
		return &refused
	}
	e := &serviceuser.CredentialError{Kind: w.kind, Problem: "the changed file is refused (" + keptNote + ")", Err: cause}
	if credfile.ShowablePath(w.path) {
		e.Path = w.path
	}
	return e
}

// peek returns the state without looking at the file.
func (w *fileWatch[T]) peek() watchState[T] {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state
}

// rotation looks at the file (at most once per pollInterval) and reports
// the state as a serviceuser.Rotation.
func (w *fileWatch[T]) rotation() serviceuser.Rotation {
	st := w.poll(false)
	r := serviceuser.Rotation{Changes: st.gen, Err: st.err}
	if credfile.ShowablePath(w.path) {
		r.Path = w.path
	}
	return r
}

// credentialError is the *serviceuser.CredentialError of e: a
// *credfile.Error has its fields.
func credentialError(e *credfile.Error) error { return (*serviceuser.CredentialError)(e) }
