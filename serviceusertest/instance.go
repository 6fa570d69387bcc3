package serviceusertest

import (
	"fmt"
	"net"
	"net/http"
)

// InstanceHostHeader names the header that picks the instance when a request
// reaches ZITADEL under another host name, as through a proxy or by IP.
const InstanceHostHeader = "X-Zitadel-Instance-Host"

// SetInstanceDomain makes host ("name:port") the instance's domain, for
// instance "localhost:PORT" with the listener's port (see Issuer). ZITADEL
// serves an instance only under its domain: requests with another Host, such
// as the listener's own "127.0.0.1:PORT", are then answered 404 unless they
// carry InstanceHostHeader with the domain. Issuer and every endpoint, in
// discovery too, name the domain. The empty string restores the default, the
// listener's host.
func (s *Server) SetInstanceDomain(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.domain = host
}

// ListenerHost returns the address the server listens on, "127.0.0.1:PORT"
// (with WithListener, the listener's address), whatever the instance domain.
// With InProcess, where nothing listens, it is the fixed "127.0.0.1:1".
func (s *Server) ListenerHost() string {
	if s.srv == nil {
		return inProcessHost
	}
	return s.srv.Listener.Addr().String()
}

// instanceHost is the domain the instance answers for.
func (s *Server) instanceHost() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.instanceHostLocked()
}

// instanceHostLocked is instanceHost with s.mu held.
func (s *Server) instanceHostLocked() string {
	if s.domain != "" {
		return s.domain
	}
	return s.ListenerHost()
}

// checkInstance refuses requests for another host than the instance's, with
// ZITADEL's plain-text 404.
func (s *Server) checkInstance(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h := r.Header.Get(InstanceHostHeader); h != "" {
			host = h
		}
		domain := s.instanceHost()
		if host != domain {
			http.Error(w, instanceNotFound(host, domain), http.StatusNotFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// instanceNotFound is ZITADEL's answer for an unknown instance host.
func instanceNotFound(host, domain string) string {
	return fmt.Sprintf("unable to set instance using origin &{%s  http} (ExternalDomain is %s): "+
		"ID=QUERY-1kIjX Message=Instance not found. Make sure you got the domain right. "+
		"Check out https://zitadel.com/docs/apis/introduction#domains "+
		"Parent=(unable to get instance by host: instanceHost %s, publicHost : ID=QUERY-1kIjX Message=Errors.IAM.NotFound)",
		host, hostname(domain), host)
}

// hostname is host without its port.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}
