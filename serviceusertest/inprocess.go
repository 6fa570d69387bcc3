package serviceusertest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
)

// inProcessHost is the address an in-process server answers on. Port 1 is
// never served on a real machine: a client that bypasses Transport by
// mistake fails at once instead of reaching something else.
const inProcessHost = "127.0.0.1:1"

// InProcess makes a Server without a listener: Client and Transport serve
// each request by calling the server's handler in the caller's goroutine.
// Issuer is "http://127.0.0.1:1" (the fixed ListenerHost), which the
// library's rule for plain http accepts as a loopback host. Requests must go
// through Client or Transport, as nothing listens there; these answer for
// 127.0.0.1:1, localhost:1 and the instance domain (SetInstanceDomain), and
// fail like a refused connection for any other host or once Close was called.
//
// With no goroutine blocked on a socket, such a server works inside a
// testing/synctest bubble, where time.Now is the bubble's fake clock:
// time.Sleep moves the server's clock and the client's together, instantly
// and exactly. SetLatency and Hang faults wait on that clock too.
func InProcess() Option {
	return func(s *Server) { s.inProcess = true }
}

// errDropped is what a client sees when the server drops a request without
// answering (a Hang fault, CloseConn, a held request released by Close).
var errDropped = fmt.Errorf("serviceusertest: server dropped the connection without answering: %w", io.ErrUnexpectedEOF)

// errClosed is what a client sees for a request to a closed in-process server.
var errClosed = errors.New("serviceusertest: in-process server is closed (connection refused)")

// inProcessTransport serves requests with the server's handler, without a
// network: the answer is recorded and handed back as a real *http.Response.
type inProcessTransport struct{ s *Server }

// RoundTrip serves r in-process. As http.RoundTripper requires, it never
// changes r and always closes its body.
func (t inProcessTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		defer r.Body.Close()
	}
	if err := t.reachable(r); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	aborted := serve(t.s.handler, rec, serverRequest(r))
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	if aborted {
		return nil, errDropped
	}
	return recordedResponse(rec, r), nil
}

// reachable refuses what a dial would: a cancelled request, a closed server,
// an address other than the server's loopback one or its instance domain.
func (t inProcessTransport) reachable(r *http.Request) error {
	if r.URL == nil {
		return errors.New("serviceusertest: request without a URL")
	}
	if err := r.Context().Err(); err != nil {
		return err
	}
	select {
	case <-t.s.done:
		return errClosed
	default:
	}
	switch r.URL.Host {
	case inProcessHost, "localhost:1", t.s.instanceHost():
		return nil
	}
	return fmt.Errorf("serviceusertest: in-process server answers on %s only, not %s", inProcessHost, r.URL.Redacted())
}

// serverRequest is r as a server receives it: a copy the handler may parse
// into, with the request-target and Host a listener would have set.
func serverRequest(r *http.Request) *http.Request {
	sr := r.Clone(r.Context())
	sr.RequestURI = r.URL.RequestURI()
	sr.URL = &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	sr.RemoteAddr = "127.0.0.1:49152"
	if sr.Host == "" {
		sr.Host = r.URL.Host
	}
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	return sr
}

// serve runs h, reporting whether it aborted the request with
// http.ErrAbortHandler, as this server does to drop a connection. Any other
// panic is a bug in the fake and goes on.
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (aborted bool) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			aborted = true
		}
	}()
	h.ServeHTTP(w, r)
	return false
}

// recordedResponse is the answer in rec as a client receives it, with the
// Content-Length a server would send.
func recordedResponse(rec *httptest.ResponseRecorder, r *http.Request) *http.Response {
	resp := rec.Result()
	resp.Request = r
	if resp.ContentLength < 0 {
		resp.ContentLength = int64(rec.Body.Len())
		resp.Header.Set("Content-Length", strconv.Itoa(rec.Body.Len()))
	}
	return resp
}
