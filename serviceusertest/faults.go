package serviceusertest

import (
	"net/http"
	"time"
)

// Fault replaces the normal answer of the token endpoint (FailNext) or of the
// introspection endpoint (FailNextIntrospection), to test how a client copes
// with outages, proxies and broken servers.
type Fault struct {
	// Status is the HTTP status to answer with; 0 means 500.
	Status int
	// Body is the raw body, which may be anything (HTML, truncated JSON...).
	// Empty means ZITADEL's {"error":"server_error","error_description":"Errors.Internal"}.
	Body string
	// NoBody answers with an empty body; Body is then ignored.
	NoBody bool
	// Header holds extra response headers, e.g. Retry-After.
	Header http.Header
	// Hang never answers: the request is held until the client gives up or
	// the server is closed, and its connection is then dropped.
	Hang bool
	// CloseConn closes the TCP connection without answering.
	CloseConn bool
}

// FailNext makes the next n token requests get f instead of normal
// processing; they still count in TokenRequests. Calls queue up: FailNext(1, a)
// then FailNext(1, b) fails the next request with a and the one after with b.
// n <= 0 drops all pending faults.
func (s *Server) FailNext(n int, f Fault) {
	s.queueFaults(&s.faults, n, f)
}

// queueFaults appends n copies of f to *queue, or empties it when n <= 0.
func (s *Server) queueFaults(queue *[]Fault, n int, f Fault) {
	f.Header = f.Header.Clone() // the caller may reuse its map
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		*queue = nil
		return
	}
	for range n {
		*queue = append(*queue, f)
	}
}

// serveFault answers r as f says.
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f Fault) {
	switch {
	case f.Hang:
		s.hold(r, -1)
		panic(http.ErrAbortHandler) // drop the connection, no answer
	case f.CloseConn:
		closeConn(w)
		return
	}
	for k, vs := range f.Header {
		w.Header().Del(k)
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	status := f.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	switch {
	case f.NoBody:
		w.WriteHeader(status)
	case f.Body == "":
		writeJSON(w, status, internalError)
	default:
		w.WriteHeader(status)
		_, _ = w.Write([]byte(f.Body))
	}
}

// closeConn drops the connection under w without writing anything.
func closeConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: resets the stream instead
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// waitLatency applies SetLatency. A request whose wait is cut short by the
// client or by Close is dropped without an answer.
func (s *Server) waitLatency(r *http.Request) {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	if d > 0 && !s.hold(r, d) {
		panic(http.ErrAbortHandler)
	}
}

// hold blocks for d (forever if d < 0) or until the client gives up or the
// server closes. It reports whether the full d passed. Waiting on s.done is
// what lets Close return while requests are held.
func (s *Server) hold(r *http.Request, d time.Duration) bool {
	var elapsed <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		elapsed = t.C
	}
	select {
	case <-elapsed:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
}
