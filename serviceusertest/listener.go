package serviceusertest

import (
	"net"
	"net/http"
	"net/http/httptest"
)

// WithListener makes the server serve on l, a TCP listener the caller
// opened, instead of on a new one at 127.0.0.1 on a free port: to run the
// fake at a fixed address, as a program that others connect to. Issuer is
// then "http://" and l's address; for a listener on all interfaces
// (0.0.0.0 or [::]) name the host clients use with SetInstanceDomain.
// The server owns l from then on: Close closes it. NewServer panics if
// InProcess is given too, as an in-process server has no listener.
func WithListener(l net.Listener) Option {
	return func(s *Server) { s.listener = l }
}

// listen starts serving over HTTP, on the WithListener listener or else
// on a new loopback one.
func (s *Server) listen() {
	switch {
	case s.inProcess && s.listener != nil:
		panic("serviceusertest: InProcess and WithListener exclude each other")
	case s.inProcess:
		return
	case s.listener == nil:
		s.srv = httptest.NewServer(s.handler)
		return
	}
	// What httptest.NewServer does, on the caller's listener.
	s.srv = &httptest.Server{Listener: s.listener, Config: &http.Server{Handler: s.handler}}
	s.srv.Start()
}
