package serviceuser

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Endpoints are the ZITADEL endpoints a client uses, from OIDC discovery.
type Endpoints struct {
	Issuer           string `json:"issuer"`
	TokenURL         string `json:"token_endpoint"`
	UserinfoURL      string `json:"userinfo_endpoint"`
	IntrospectionURL string `json:"introspection_endpoint"`
	RevocationURL    string `json:"revocation_endpoint"`
	JWKSURL          string `json:"jwks_uri"`
}

// DiscoveryError reports a discovery document that could not be fetched or used.
type DiscoveryError struct {
	// URL is the discovery document's address.
	URL string
	// StatusCode is the HTTP status, or 0 when there was no answer.
	StatusCode int
	// Problem says what is wrong.
	Problem string
	// Err is the underlying error, if any.
	Err error
}

func (e *DiscoveryError) Error() string {
	msg := "serviceuser: discovery " + e.URL + ": " + e.Problem
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *DiscoveryError) Unwrap() error { return e.Err }

// Permanent reports whether the document was fetched but is wrong for the
// issuer; network failures and 5xx answers are worth retrying.
func (e *DiscoveryError) Permanent() bool {
	return e.StatusCode != 0 && e.StatusCode < 500 && e.StatusCode != http.StatusTooManyRequests
}

// Discover fetches {issuer}/.well-known/openid-configuration with client (nil
// means a default client) and checks that it describes issuer.
func Discover(ctx context.Context, issuer string, client *http.Client) (*Endpoints, error) {
	iss, err := normalizeIssuer(issuer)
	if err != nil {
		return nil, err
	}
	return newCaller(client, 0).discover(ctx, iss)
}

func (c *caller) discover(ctx context.Context, issuer string) (*Endpoints, error) {
	docURL := issuer + "/.well-known/openid-configuration"
	req, err := http.NewRequest(http.MethodGet, docURL, nil)
	if err != nil {
		return nil, &DiscoveryError{URL: docURL, Problem: "bad URL", Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, body, err := c.do(ctx, req)
	if err != nil {
		return nil, &DiscoveryError{URL: docURL, Problem: "request failed", Err: err}
	}
	fail := func(problem string) error {
		return &DiscoveryError{URL: docURL, StatusCode: resp.StatusCode, Problem: problem}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fail(fmt.Sprintf("HTTP %d", resp.StatusCode))
	}
	var ep Endpoints
	if err := json.Unmarshal(body, &ep); err != nil {
		return nil, fail("not a JSON document")
	}
	if ep.Issuer != issuer {
		return nil, fail(fmt.Sprintf("document names issuer %q, not %q", truncate(ep.Issuer, 100), issuer))
	}
	if ep.TokenURL == "" {
		return nil, fail("no token_endpoint")
	}
	return &ep, nil
}

// discovery fetches the endpoints once and keeps them; failures are not kept,
// so the next refresh tries again.
type discovery struct {
	caller *caller
	issuer string
	mu     sync.Mutex
	ep     *Endpoints
}

func (d *discovery) endpoints(ctx context.Context) (*Endpoints, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ep != nil {
		return d.ep, nil
	}
	ep, err := d.caller.discover(ctx, d.issuer)
	if err != nil {
		return nil, err
	}
	d.ep = ep
	return ep, nil
}

// normalizeIssuer trims trailing slashes (ZITADEL's issuer has none and the
// assertion's audience must match it exactly) and checks the scheme.
func normalizeIssuer(issuer string) (string, error) {
	iss := strings.TrimRight(strings.TrimSpace(issuer), "/")
	if iss == "" {
		return "", &ConfigError{Field: "Issuer", Problem: "missing"}
	}
	if err := checkSecureURL(iss); err != nil {
		return "", &ConfigError{Field: "Issuer", Problem: err.Error()}
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

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
