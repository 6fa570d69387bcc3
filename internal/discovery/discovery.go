// Package discovery fetches and keeps ZITADEL's OIDC discovery document.
package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/answer"
	"github.com/go-serviceuser/serviceuser/internal/hint"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
	"github.com/go-serviceuser/serviceuser/internal/redact"
	"github.com/go-serviceuser/serviceuser/internal/urlpolicy"
)

// Endpoints are the fields of the document the library checks or uses;
// userinfo.Endpoints is built from it.
type Endpoints struct {
	Issuer           string `json:"issuer"`
	TokenURL         string `json:"token_endpoint"`
	UserinfoURL      string `json:"userinfo_endpoint"`
	IntrospectionURL string `json:"introspection_endpoint"`
	RevocationURL    string `json:"revocation_endpoint"`
	JWKSURL          string `json:"jwks_uri"`
}

// Error is a document that could not be fetched or used: the fields of
// serviceuser.DiscoveryError, in its order, so that a *Error converts to a
// *serviceuser.DiscoveryError (the conversion fails to compile when they
// differ). See there for what each means.
type Error struct {
	URL        string
	StatusCode int
	Problem    string
	Err        error
	// OtherIssuer is the issuer the document names instead of the one
	// asked for, redacted and one line; "" otherwise.
	OtherIssuer string
}

// maxIssuer bounds the issuer of another instance kept in an Error.
const maxIssuer = 100

// Fetch fetches {issuer}/.well-known/openid-configuration with c and checks
// that it describes issuer (normalized) and names usable endpoints.
func Fetch(ctx context.Context, c *httpcall.Caller, issuer string) (*Endpoints, *Error) {
	docURL := issuer + "/.well-known/openid-configuration"
	req, err := http.NewRequest(http.MethodGet, docURL, nil)
	if err != nil {
		return nil, &Error{URL: docURL, Problem: "bad URL", Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, body, err := c.Do(ctx, req)
	if err != nil {
		return nil, &Error{URL: docURL, Problem: "request failed", Err: err}
	}
	fail := func(problem string) *Error {
		return &Error{URL: docURL, StatusCode: resp.StatusCode, Problem: problem}
	}
	if resp.StatusCode != http.StatusOK {
		e := fail(fmt.Sprintf("HTTP %d", resp.StatusCode))
		text := answer.TextExcerpt(resp, body)
		if strings.Contains(text, "Instance not found") { // other bodies, which a proxy may fill with anything, are left out
			e.Problem += ": " + redact.String(text)
		}
		if h := hint.For(hint.Answer{StatusCode: resp.StatusCode, Description: text}); h != "" {
			e.Problem += " (" + h + ")"
		}
		return nil, e
	}
	var ep Endpoints
	if err := json.Unmarshal(body, &ep); err != nil {
		return nil, fail("not a JSON document")
	}
	if ep.Issuer != issuer {
		e := fail(fmt.Sprintf("document names issuer %q, not %q", redact.URL(ep.Issuer, maxIssuer), redact.URL(issuer, maxIssuer)))
		if ep.Issuer != "" { // a JSON page without an issuer is not ZITADEL's yet
			e.OtherIssuer = redact.Line(redact.URL(ep.Issuer, maxIssuer), maxIssuer)
		}
		return nil, e
	}
	if err := ep.check(c.AllowPlainHTTP); err != nil {
		e := fail("unusable document")
		e.Err = err
		return nil, e
	}
	return &ep, nil
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
		if err := urlpolicy.Check(e.url, allowPlainHTTP); err != nil {
			return fmt.Errorf("%s %w", e.name, err)
		}
	}
	return nil
}

// Cache fetches the endpoints once and keeps them; failures are not kept,
// so the next request tries again.
type Cache struct {
	caller *httpcall.Caller
	issuer string
	wrap   func(*Error) error                                       // what callers get for a failure
	done   func(ctx context.Context, took time.Duration, err error) // told of each fetch, with its ctx
	// sem admits one discovery request at a time; unlike a mutex, a caller
	// whose context ends stops waiting for it.
	sem chan struct{}
	ep  atomic.Pointer[Endpoints]
}

// NewCache returns a cache of issuer's endpoints, fetched with c. wrap turns
// a failure into the error callers get; done, if not nil, is told of each
// fetch, with the ctx of the caller that made it and that error.
func NewCache(c *httpcall.Caller, issuer string, wrap func(*Error) error, done func(context.Context, time.Duration, error)) *Cache {
	return &Cache{caller: c, issuer: issuer, wrap: wrap, done: done, sem: make(chan struct{}, 1)}
}

// Endpoints returns the endpoints, fetching them if none are kept.
func (d *Cache) Endpoints(ctx context.Context) (*Endpoints, error) {
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
	ep, de := Fetch(ctx, d.caller, d.issuer)
	var err error
	if de != nil {
		err = d.wrap(de)
	}
	if d.done != nil {
		d.done(ctx, time.Since(start), err)
	}
	if err != nil {
		return nil, err
	}
	d.ep.Store(ep)
	return ep, nil
}
