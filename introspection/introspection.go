package serviceuser

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// ClientAssertionType is RFC 7523 section 2.2's client authentication by JWT.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Introspection is the answer of the introspection endpoint (RFC 7662).
type Introspection struct {
	Active    bool     `json:"active"`
	Subject   string   `json:"sub"`
	ClientID  string   `json:"client_id"`
	Username  string   `json:"username"`
	Scope     string   `json:"scope"`
	TokenType string   `json:"token_type"`
	Issuer    string   `json:"iss"`
	Audience  []string `json:"aud"`
	ExpiresAt int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
}

// UnmarshalJSON accepts "aud" as a string or an array of strings.
func (r *Introspection) UnmarshalJSON(data []byte) error {
	type plain Introspection
	var v struct {
		*plain
		Audience json.RawMessage `json:"aud"`
	}
	v.plain = (*plain)(r)
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	var one string
	if json.Unmarshal(v.Audience, &one) == nil {
		r.Audience = []string{one}
		return nil
	}
	r.Audience = nil
	_ = json.Unmarshal(v.Audience, &r.Audience) // absent or malformed: no audience
	return nil
}

// IntrospectionConfig describes how a backend API checks access tokens at
// ZITADEL: with an API application's key (type "application"), which
// authenticates the API by RFC 7523 section 2.2 client assertions.
type IntrospectionConfig struct {
	// Key is the API application's key file.
	Key *KeyFile
	// Issuer is the ZITADEL instance; see Config.Issuer.
	Issuer string
	// IntrospectionURL, when set, is used instead of discovery's.
	IntrospectionURL string
	// Address, InsecureAllowPlainHTTP and Header mean what they mean in
	// Config, for discovery and introspection requests.
	Address                string
	InsecureAllowPlainHTTP bool
	Header                 http.Header
	// Hooks, when set, are told of every Introspect call (see Hooks).
	Hooks *Hooks
	// HTTPClient sends the requests; nil means a client of this package's own.
	HTTPClient *http.Client
	// Timeout bounds each request; DefaultTimeout when zero.
	Timeout time.Duration
	// CacheTTL bounds how long an active result is reused (never past the
	// token's exp): a revoked token is accepted for at most this long.
	// DefaultIntrospectionCacheTTL when zero; negative disables the cache.
	CacheTTL time.Duration
}

// DefaultIntrospectionCacheTTL is IntrospectionConfig.CacheTTL's default.
const DefaultIntrospectionCacheTTL = time.Minute

// maxCachedIntrospections bounds the cache's memory.
const maxCachedIntrospections = 10000

// Introspector checks access tokens at ZITADEL's introspection endpoint. It
// caches active results and makes one request per token however many
// requests carry it at once. It is safe for concurrent use.
type Introspector struct {
	conn   *pipeline // its endpoints and caller; it has no grant
	signer *assertionSigner
	url    string
	ttl    time.Duration

	mu       sync.Mutex
	cache    map[[32]byte]cachedIntrospection
	inFlight map[[32]byte]*introspectionCall
}

type cachedIntrospection struct {
	result *Introspection
	until  time.Time
}

type introspectionCall struct {
	done   chan struct{}
	result *Introspection
	err    error
}

// NewIntrospector checks the config and returns an Introspector.
func (c IntrospectionConfig) NewIntrospector(ctx context.Context) (*Introspector, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	signer, err := newAssertionSigner(c.Key, 0)
	if err != nil {
		return nil, err
	}
	ttl := c.CacheTTL
	if ttl == 0 {
		ttl = DefaultIntrospectionCacheTTL
	}
	s := c.settings()
	return &Introspector{conn: s.newPipeline(s.httpClient(ctx), nil), signer: signer, url: c.IntrospectionURL, ttl: ttl,
		cache: map[[32]byte]cachedIntrospection{}, inFlight: map[[32]byte]*introspectionCall{}}, nil
}

// Validate reports the first problem that would keep the config from working.
func (c IntrospectionConfig) Validate() error {
	s := c.settings()
	if c.Key == nil || c.Key.signer() == nil || c.Key.Type != KeyTypeApplication {
		return s.configError("Key", "an API application key (type \"application\") is required")
	}
	if c.IntrospectionURL != "" {
		if err := checkURL(c.IntrospectionURL, c.InsecureAllowPlainHTTP); err != nil {
			return s.fieldError("IntrospectionURL", err)
		}
	}
	return s.validate()
}

func (c IntrospectionConfig) settings() settings {
	return settings{config: "IntrospectionConfig", issuer: c.Issuer, client: c.HTTPClient, timeout: c.Timeout,
		address: c.Address, header: c.Header, allowPlainHTTP: c.InsecureAllowPlainHTTP, hooks: c.Hooks}
}

// Introspect reports whether token is active, and what ZITADEL knows of it.
// An inactive token is not an error. Each caller waits for the answer until
// its own ctx ends; a caller whose ctx has already ended gets ctx.Err().
func (in *Introspector) Introspect(ctx context.Context, token string) (*Introspection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // the caller is gone: no answer, and no request
	}
	key := sha256.Sum256([]byte(token)) // the cache never holds raw tokens
	in.mu.Lock()
	if c, ok := in.cache[key]; ok && time.Now().Before(c.until) {
		in.mu.Unlock()
		return c.result, nil
	}
	call := in.inFlight[key]
	if call == nil {
		call = &introspectionCall{done: make(chan struct{})}
		in.inFlight[key] = call
		go in.run(context.WithoutCancel(ctx), key, call, token)
	}
	in.mu.Unlock()
	select {
	case <-call.done:
		return call.result, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run makes the request for everyone waiting on call. It runs on its own
// goroutine, bounded by the timeout alone: no caller's cancellation fails the
// others, and none has to wait for the request once its own ctx ends.
func (in *Introspector) run(ctx context.Context, key [32]byte, call *introspectionCall, token string) {
	ctx, cancel := context.WithTimeout(ctx, in.conn.call.timeout)
	defer cancel()
	call.result, call.err = in.request(ctx, token)
	in.mu.Lock()
	delete(in.inFlight, key)
	in.store(key, call.result)
	in.mu.Unlock()
	close(call.done)
}

// store caches an active result until the token's exp, at most ttl.
func (in *Introspector) store(key [32]byte, r *Introspection) {
	if in.ttl < 0 || r == nil || !r.Active {
		return
	}
	now := time.Now()
	until := now.Add(in.ttl)
	if exp := time.Unix(r.ExpiresAt, 0); r.ExpiresAt != 0 && exp.Before(until) {
		until = exp
	}
	if len(in.cache) >= maxCachedIntrospections {
		for k, c := range in.cache {
			if !now.Before(c.until) {
				delete(in.cache, k)
			}
		}
	}
	if len(in.cache) < maxCachedIntrospections {
		in.cache[key] = cachedIntrospection{result: r, until: until}
	}
}

// request asks the introspection endpoint, authenticated by a fresh client assertion.
func (in *Introspector) request(ctx context.Context, token string) (*Introspection, error) {
	ep, err := in.conn.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	target := in.url
	if target == "" {
		target = ep.IntrospectionURL
	}
	if target == "" {
		return nil, &ConfigError{Config: "IntrospectionConfig", Field: "IntrospectionURL", Problem: "the discovery document names no introspection_endpoint; set it"}
	}
	assertion, err := in.signer.sign(ep.Issuer, time.Now())
	if err != nil {
		return nil, err
	}
	form := url.Values{"token": {token}, "client_assertion_type": {ClientAssertionType}, "client_assertion": {assertion}}
	resp, body, err := in.conn.call.postForm(ctx, tokenRequest{url: target, form: form})
	if err != nil {
		return nil, networkError(EndpointIntrospection, resp, err)
	}
	var r Introspection
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &r) != nil {
		return nil, endpointError(answer{endpoint: EndpointIntrospection, resp: resp, body: body, secrets: []string{assertion, token}})
	}
	return &r, nil
}
