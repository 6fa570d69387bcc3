package main

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
)

// bodyWatch is the transport of every request the tool sends. It notes a
// response whose body could not be read to its end: the library reports such
// an answer with its status code, yet the server's answer never arrived, so
// the exit code must say "no answer" rather than "refused".
type bodyWatch struct {
	base http.RoundTripper
	cut  atomic.Bool
}

func newBodyWatch() *bodyWatch {
	return &bodyWatch{base: http.DefaultTransport.(*http.Transport).Clone()}
}

// RoundTrip sends req and watches the reads of the response body.
func (w *bodyWatch) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.base.RoundTrip(req)
	if err == nil {
		resp.Body = &watchedBody{ReadCloser: resp.Body, w: w}
	}
	return resp, err
}

// client returns an HTTP client that sends through the watch.
func (w *bodyWatch) client() *http.Client { return &http.Client{Transport: w} }

// classify marks err as a cut-off answer when a body read failed.
func (w *bodyWatch) classify(err error) error {
	if err != nil && w.cut.Load() {
		return &cutOffError{err}
	}
	return err
}

// close releases the idle connections of the watch's transport.
func (w *bodyWatch) close() {
	if t, ok := w.base.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
}

type watchedBody struct {
	io.ReadCloser
	w *bodyWatch
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.w.cut.Store(true)
	}
	return n, err
}

// cutOffError is an answer that ended before its body did: the connection
// dropped or timed out while the body was read.
type cutOffError struct{ err error }

func (e *cutOffError) Error() string { return e.err.Error() }
func (e *cutOffError) Unwrap() error { return e.err }
