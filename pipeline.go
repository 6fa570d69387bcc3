package serviceuser

import (
	"cmp"
	"context"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/contain"
	"github.com/go-serviceuser/serviceuser/internal/discovery"
	"github.com/go-serviceuser/serviceuser/internal/exchange"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
	"github.com/go-serviceuser/serviceuser/internal/route"
)

// grant is one way of getting a token at the token endpoint. It only builds
// the request: discovery, the exchange, errors and redaction are shared by
// every grant (see pipeline).
type grant interface {
	// tokenRequest builds the request to ep's token endpoint at now, for a
	// request with ctx (a reloaded credential is told to hooks with it);
	// the pipeline adds the scope.
	tokenRequest(ctx context.Context, ep *discovery.Endpoints, now time.Time) (exchange.Request, error)
}

// pipeline obtains tokens for one grant: discovery, then the grant's
// request, then the exchange.
type pipeline struct {
	call      *httpcall.Caller
	endpoints func(context.Context) (*discovery.Endpoints, error)
	scope     string
	grant     grant
}

// newPipeline connects checked settings, whose route is r, to g, over client
// (nil: a client of the library's own, whose connections closeIdle ends).
func (s settings) newPipeline(client *http.Client, r *route.Route, g grant) *pipeline {
	issuer := r.Issuer()
	call := r.Caller(client, s.timeout)
	p := &pipeline{call: call, scope: s.scope(), grant: g}
	if s.tokenURL != "" {
		ep := &discovery.Endpoints{Issuer: issuer, TokenURL: s.tokenURL}
		p.endpoints = func(context.Context) (*discovery.Endpoints, error) { return ep, nil }
	} else {
		p.endpoints = discover(call, issuer, s.hooks)
	}
	return p
}

// fetch makes one token request.
func (p *pipeline) fetch(ctx context.Context) (*oauth2.Token, error) {
	ep, err := p.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	req, err := p.grant.tokenRequest(ctx, ep, time.Now())
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err // ended while a signer or a credential source worked: send nothing
	}
	req.URL = ep.TokenURL
	req.Form.Set("scope", p.scope)
	tok, failed := exchange.Post(ctx, p.call, req)
	if failed != nil {
		return nil, tokenError(failed)
	}
	return tok, nil
}

// grantBuilder validates a config and returns its grant.
type grantBuilder func() (grant, error)

// tokenSource is every config's TokenSource: a config that cannot work
// yields a source whose every call returns the config's error.
func (s settings) tokenSource(ctx context.Context, build grantBuilder) *TokenSource {
	client := s.httpClient(ctx)
	// A refresh keeps retrying within its callers' wait for as long as one
	// request may take.
	budget := cmp.Or(s.timeout, DefaultTimeout)
	g, r, err := s.grant(build)
	if err != nil {
		return newTokenSource(ctx, failing(err), sourceOptions{api: s.apiClient(client, nil), budget: budget})
	}
	p := s.newPipeline(client, r, g)
	o := sourceOptions{api: s.apiClient(client, r), timing: s.timing, budget: budget, closeIdle: p.call.CloseIdle}
	if w, ok := g.(changingCredential); ok {
		o.changed = w.credentialChanged
	}
	return newTokenSource(ctx, p.fetch, o)
}

// token is every config's Token: one request, no cache, bounded by ctx.
func (s settings) token(ctx context.Context, build grantBuilder) (*oauth2.Token, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	return withinContext(ctx, func() (*oauth2.Token, error) {
		g, r, err := s.grant(build)
		if err != nil {
			return nil, err
		}
		p := s.newPipeline(s.httpClient(ctx), r, g)
		defer p.call.CloseIdle()
		return p.fetch(ctx)
	})
}

// withinContext returns what get returns, or ctx's error as soon as ctx
// ends, so that a one-shot Token keeps to its caller's deadline while code
// that cannot be given ctx (a crypto.Signer, a KeySource, a SecretSource)
// still works. get runs on a goroutine of its own (see contain.Go), which
// ends when get returns; its panic or runtime.Goexit becomes an error. A ctx
// already done runs nothing.
func withinContext[T any](ctx context.Context, get func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // get's goroutine never waits for a caller that left
	contain.Go("token request", get, func(v T, err error) { done <- result{v, err} })
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// grant checks the config's own fields, then the shared settings, and
// returns the grant and the route its requests take.
func (s settings) grant(build grantBuilder) (grant, *route.Route, error) {
	g, err := build()
	if err != nil {
		return nil, nil, err
	}
	r, err := s.check()
	if err != nil {
		return nil, nil, err
	}
	return g, r, nil
}

// failing is the fetch of a configuration that cannot work.
func failing(err error) func(context.Context) (*oauth2.Token, error) {
	return func(context.Context) (*oauth2.Token, error) { return nil, err }
}
