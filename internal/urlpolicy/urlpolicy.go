package serviceuser

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// The one rule for which URLs may carry a credential (an assertion, a client
// secret, a token): https, or http to a loopback host, or plain http anywhere
// once a config's InsecureAllowPlainHTTP says so. It applies to configured
// URLs and to those a discovery document names.

// normalizeIssuer trims trailing slashes (ZITADEL's issuer has none and the
// assertion's audience must match it exactly) and checks the scheme.
func normalizeIssuer(issuer string) (string, error) {
	return normalizeIssuerURL(issuer, false)
}

// normalizeIssuerURL is normalizeIssuer; allowPlainHTTP is the config's opt-in.
func normalizeIssuerURL(issuer string, allowPlainHTTP bool) (string, error) {
	iss := strings.TrimRight(strings.TrimSpace(issuer), "/")
	if iss == "" {
		return "", errors.New("missing")
	}
	if err := checkURL(iss, allowPlainHTTP); err != nil {
		return "", err
	}
	return iss, nil
}

// checkSecureURL accepts https URLs, and http only to loopback hosts.
func checkSecureURL(raw string) error { return checkURL(raw, false) }

// checkURL is checkSecureURL; allowPlainHTTP accepts http to any host.
func checkURL(raw string, allowPlainHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", truncate(raw, 100))
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && (allowPlainHTTP || isLoopback(u.Hostname())):
		return nil
	case u.Scheme == "http":
		return &insecureURLError{url: raw}
	}
	return fmt.Errorf("%q: scheme must be https", truncate(raw, 100))
}

// insecureURLError refuses a plain-http URL to a host that is not loopback;
// it matches ErrInsecureURL.
type insecureURLError struct{ url string }

func (e *insecureURLError) Error() string {
	return fmt.Sprintf("%q uses plain http; only https (or http to a loopback host) may carry credentials, "+
		"unless InsecureAllowPlainHTTP is set for a network you control", truncate(e.url, 100))
}

func (e *insecureURLError) Is(target error) bool { return target == ErrInsecureURL }

// isLoopback reports a host name or address that does not leave the machine.
func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
