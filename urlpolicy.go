package serviceuser

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// The one rule for which URLs may carry a credential (an assertion, a client
// secret, a token): https, or http to a loopback host. It applies to
// configured URLs and to those a discovery document names.

// normalizeIssuer trims trailing slashes (ZITADEL's issuer has none and the
// assertion's audience must match it exactly) and checks the scheme.
func normalizeIssuer(issuer string) (string, error) {
	iss := strings.TrimRight(strings.TrimSpace(issuer), "/")
	if iss == "" {
		return "", errors.New("missing")
	}
	if err := checkSecureURL(iss); err != nil {
		return "", err
	}
	return iss, nil
}

// checkSecureURL accepts https URLs, and http only to loopback hosts.
func checkSecureURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", truncate(raw, 100))
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%q uses plain http; only https (or http to a loopback host) may carry credentials", truncate(raw, 100))
	}
	return fmt.Errorf("%q: scheme must be https", truncate(raw, 100))
}

// isLoopback reports a host name or address that does not leave the machine.
func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
