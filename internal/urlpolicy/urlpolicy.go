// Package urlpolicy is the one rule for which URLs may carry a credential (an
// assertion, a client secret, a token): https, or http to a loopback host,
// or plain http anywhere once a config's Route.InsecureAllowPlainHTTP says so. It
// applies to configured URLs and to those a discovery document names.
package urlpolicy

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// ErrInsecureURL is matched by every refusal of a plain-http URL to a host
// that is not loopback (serviceuser.ErrInsecureURL is this value).
var ErrInsecureURL = errors.New("serviceuser: refusing to send a token over plain http")

// NormalizeIssuer trims trailing slashes (ZITADEL's issuer has none and the
// assertion's audience must match it exactly) and checks the URL by Check.
// It refuses a query or fragment, even empty: an issuer has neither (OpenID
// Connect Discovery 1.0, section 4.3), and the discovery URL appended to one
// would be part of it.
func NormalizeIssuer(issuer string, allowPlainHTTP bool) (string, error) {
	iss := strings.TrimRight(strings.TrimSpace(issuer), "/")
	if iss == "" {
		return "", errors.New("missing")
	}
	if err := Check(iss, allowPlainHTTP); err != nil {
		return "", err
	}
	if strings.ContainsAny(iss, "?#") { // after Check, which parsed it: the first '?' or '#' starts a query or fragment
		return "", fmt.Errorf("%q has a query or fragment; an issuer is a scheme, a host[:port] and at most a path", redact.URL(iss, 100))
	}
	return iss, nil
}

// Check accepts https URLs, and http to loopback hosts; allowPlainHTTP (the
// config's opt-in) accepts http to any host.
func Check(raw string, allowPlainHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" { // "https://:443" has a Host but names none: Go would dial this machine
		return fmt.Errorf("%q is not an absolute URL with a host", redact.URL(raw, 100))
	}
	switch {
	case u.User != nil: // sent as Basic credentials, and echoed by errors that name the URL
		return fmt.Errorf("%q holds user info (credentials before the host); remove it", redact.URL(raw, 100))
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && (allowPlainHTTP || IsLoopback(u.Hostname())):
		return nil
	case u.Scheme == "http":
		return &insecureURLError{url: raw}
	}
	return fmt.Errorf("%q: scheme must be https", redact.URL(raw, 100))
}

// insecureURLError refuses a plain-http URL to a host that is not loopback;
// it matches ErrInsecureURL.
type insecureURLError struct{ url string }

func (e *insecureURLError) Error() string {
	return fmt.Sprintf("%q uses plain http; only https (or http to a loopback host) may carry credentials, "+
		"unless Route.InsecureAllowPlainHTTP is set for a network you control", redact.URL(e.url, 100))
}

func (e *insecureURLError) Is(target error) bool { return target == ErrInsecureURL }

// IsLoopback reports a host name or address that does not leave the machine.
// Host names are case-insensitive: LOCALHOST is localhost.
func IsLoopback(host string) bool {
	if host = strings.ToLower(host); host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
