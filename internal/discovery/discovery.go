package serviceuser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
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

// Discover fetches {issuer}/.well-known/openid-configuration with client (nil
// means a default client) and checks that it describes issuer.
func Discover(ctx context.Context, issuer string, client *http.Client) (*Endpoints, error) {
	iss, err := normalizeIssuer(issuer)
	if err != nil {
		return nil, &ConfigError{Field: "issuer", Problem: err.Error()}
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
	fail := func(problem string) *DiscoveryError {
		return &DiscoveryError{URL: docURL, StatusCode: resp.StatusCode, Problem: problem}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fail(statusProblem(resp, body))
	}
	var ep Endpoints
	if err := json.Unmarshal(body, &ep); err != nil {
		return nil, fail("not a JSON document")
	}
	if ep.Issuer != issuer {
		de := fail(fmt.Sprintf("document names issuer %q, not %q", truncate(ep.Issuer, 100), issuer))
		de.otherIssuer = ep.Issuer != "" // a JSON page without an issuer is not ZITADEL's yet
		return nil, de
	}
	if err := ep.check(c.allowPlainHTTP); err != nil {
		de := fail("unusable document")
		de.Err = err
		return nil, de
	}
	return &ep, nil
}

// statusProblem describes an answer other than 200: its status, ZITADEL's
// "Instance not found" text for a request to another host than the
// instance's domain (other bodies, which a proxy may fill with anything, are
// left out), and a hint.
func statusProblem(resp *http.Response, body []byte) string {
	problem := fmt.Sprintf("HTTP %d", resp.StatusCode)
	text := textExcerpt(resp, body)
	if strings.Contains(text, "Instance not found") {
		problem += ": " + redact(text)
	}
	if hint := hintFor("", "", resp.StatusCode, "", text); hint != "" {
		problem += " (" + hint + ")"
	}
	return problem
}

// check refuses a document whose token endpoint is unusable, or that names an
// endpoint where an assertion, a client secret or a token would travel in
// clear: discovered URLs pass the same rule as configured ones, and the same
// opt-in (allowPlainHTTP).
func (ep *Endpoints) check(allowPlainHTTP bool) error {
	if ep.TokenURL == "" {
		return errors.New("no token_endpoint")
	}
	for _, e := range []struct{ name, url string }{
		{"token_endpoint", ep.TokenURL},
		{"introspection_endpoint", ep.IntrospectionURL},
		{"userinfo_endpoint", ep.UserinfoURL},
		{"revocation_endpoint", ep.RevocationURL},
	} {
		if e.url == "" {
			continue
		}
		if err := checkURL(e.url, allowPlainHTTP); err != nil {
			return fmt.Errorf("%s %w", e.name, err)
		}
	}
	return nil
}

// discovery fetches the endpoints once and keeps them; failures are not kept,
// so the next refresh tries again.
type discovery struct {
	caller *caller
	issuer string
	hooks  *Hooks
	// sem admits one discovery request at a time; unlike a mutex, a caller
	// whose context ends stops waiting for it.
	sem chan struct{}
	ep  atomic.Pointer[Endpoints]
}

func newDiscovery(c *caller, issuer string, hooks *Hooks) *discovery {
	return &discovery{caller: c, issuer: issuer, hooks: hooks, sem: make(chan struct{}, 1)}
}

func (d *discovery) endpoints(ctx context.Context) (*Endpoints, error) {
	if ep := d.ep.Load(); ep != nil {
		return ep, nil
	}
	select {
	case d.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-d.sem }()
	if ep := d.ep.Load(); ep != nil {
		return ep, nil // fetched while this caller waited
	}
	start := time.Now()
	ep, err := d.caller.discover(ctx, d.issuer)
	d.hooks.discoveryDone(DiscoveryDoneInfo{Issuer: d.issuer, Duration: time.Since(start), Err: err})
	if err != nil {
		return nil, err
	}
	d.ep.Store(ep)
	return ep, nil
}
