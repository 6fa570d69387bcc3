// Package introspection is the resource-server side of ZITADEL service
// users: a backend API checks the access tokens its callers send at
// ZITADEL's introspection endpoint (RFC 7662), authenticated with an API
// application's key (type "application", from a key file or
// [serviceuser.NewSignerKey]) by RFC 7523 section 2.2 client
// assertions.
//
// [Config.NewIntrospector] gives an [Introspector], whose
// [Introspector.Middleware] lets through requests with an active token and
// hands the [Result] to the handler ([FromContext]); the gRPC server
// interceptors of module grpcauth do the same, with the same [BearerToken]
// rule and the same context. A Result carries the user's roles in the API's
// project ([Result.Roles], see [Config.ProjectID]) and its organization;
// [Introspector.Require] lets through only tokens that meet a
// [Requirement] ([RequireAnyRole], [RequireAllRoles], [Requirement.InOrg])
// and answers 403 to the others; [Introspector.Optional] serves requests
// without a token too. ZITADEL answers
// {"active":false} both for an inactive token and for a refused client
// assertion: an application key that does not work looks like tokens that
// do not. A token must carry the API's project in its audience
// (urn:zitadel:iam:org:project:id:{projectId}:aud) to be active.
//
// ZITADEL can issue JWT access tokens instead of opaque ones (a machine
// user's accessTokenType ACCESS_TOKEN_TYPE_JWT). With Config.Mode ModeJWT
// or ModeJWTOrIntrospect such a token is verified against the instance's
// key set (discovery's jwks_uri, kept as its Cache-Control says): an RS256
// signature by a key of 2048 bits or more chosen by kid, iss the issuer
// exactly, aud holding Config.ProjectID, exp, nbf and iat within
// JWTLeeway, a jti and none of an ID token's claims (nonce, at_hash, c_hash,
// sid; a logout token's events): ZITADEL signs its ID tokens with the same
// keys, and their aud holds the project too. While the key set cannot be
// fetched, the keys held verify until their max-age (ZITADEL's answer says
// must-revalidate); past it Introspect returns the error for every JWT, and
// the middleware answers 503, not 401: a valid token is not called invalid.
// A JWT the key set does not verify is inactive in ModeJWTOrIntrospect too,
// not asked about: it may be forged, and forgeries are not relayed. No request per token, but a revoked JWT passes until it
// expires: Introspector.AlwaysIntrospect asks ZITADEL for routes where
// that matters.
//
// Errors are those of package serviceuser: *serviceuser.ConfigError (with
// Config "introspection.Config"), *serviceuser.DiscoveryError and
// *serviceuser.TokenError with Endpoint "introspection"; a panic in the
// HTTPClient's RoundTripper becomes the error a token source returns for
// it, naming the panic value's type.
package introspection

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/internal/contain"
	"github.com/go-serviceuser/serviceuser/internal/discovery"
	"github.com/go-serviceuser/serviceuser/internal/jwks"
	"github.com/go-serviceuser/serviceuser/internal/route"
	"github.com/go-serviceuser/serviceuser/internal/urlpolicy"
)

// ClientAssertionType is RFC 7523 section 2.2's client authentication by JWT.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// DefaultCacheTTL is Config.CacheTTL's default.
const DefaultCacheTTL = time.Minute

// DefaultMaxConcurrentIntrospections is Config.MaxConcurrentIntrospections'
// default.
const DefaultMaxConcurrentIntrospections = 32

// inactiveTTL bounds how long an inactive answer is reused.
const inactiveTTL = 5 * time.Second

// configName names Config in errors.
const configName = "introspection.Config"

// Config describes how a backend API checks access tokens at ZITADEL: with
// an API application's key (type "application"), which authenticates the
// API by RFC 7523 section 2.2 client assertions.
type Config struct {
	// Mode is how tokens are checked: at the introspection endpoint (the
	// zero ModeIntrospect), or JWT access tokens against ZITADEL's key set
	// (ModeJWT, ModeJWTOrIntrospect), which needs ProjectID.
	Mode Mode
	// Key is the API application's key file; ModeJWT does without it
	// (Introspector.AlwaysIntrospect then fails).
	Key *serviceuser.KeyFile
	// ProjectID, when set, is the ID of the API application's project (a JWT
	// access token is accepted only with it in its "aud"; required in the
	// JWT modes),
	// whose roles Result.Roles returns: those of ZITADEL's claim
	// "urn:zitadel:iam:org:project:{ProjectID}:roles". When empty, the
	// roles are those of the claim "urn:zitadel:iam:org:project:roles",
	// which ZITADEL fills with the roles in the project of the application
	// that asks. Setting it makes a key of another project's application
	// show no roles rather than that project's. The key file does not
	// hold it: ZITADEL's console shows it as the Resource ID on the
	// project's page, and the Management API as the project's "id".
	ProjectID string
	// Issuer is the ZITADEL instance; see serviceuser.Config.Issuer.
	Issuer string
	// IntrospectionURL, when set, is used instead of discovery's.
	IntrospectionURL string
	// KeySetURL, when set, is the URL of ZITADEL's key set, used in the JWT
	// modes instead of discovery's jwks_uri (no discovery is needed for
	// JWTs then); the rule for IntrospectionURL applies.
	KeySetURL string
	// Route is how discovery and introspection requests reach the issuer
	// when not straight at its URL (see serviceuser.Route).
	Route serviceuser.Route
	// Hooks, when set, are told of every Introspect call and discovery
	// (see hooks.Hooks).
	Hooks *hooks.Hooks
	// HTTPClient sends the requests; nil means the one ctx carries under
	// oauth2.HTTPClient, or else a client of the library's own.
	HTTPClient *http.Client
	// Timeout bounds each request; serviceuser.DefaultTimeout when zero,
	// and never negative.
	Timeout time.Duration
	// CacheTTL bounds how long an active result is reused (never past the
	// token's exp): a revoked token is accepted for at most this long. An
	// inactive result is reused for at most 5 s. DefaultCacheTTL when zero;
	// negative disables the cache. The cache keeps at most 10,000 active
	// results and, apart from them, 1,000 inactive ones, dropping the least
	// recently used: junk tokens never crowd active results out.
	CacheTTL time.Duration
	// MaxConcurrentIntrospections bounds the introspection requests in
	// flight at once; DefaultMaxConcurrentIntrospections when zero, and
	// never negative. A caller with a token neither cached nor being
	// asked about waits for a free slot until its ctx ends (then it gets
	// ctx.Err(), and the middleware answers 503), so that a flood of
	// distinct tokens costs a bounded number of requests and goroutines.
	MaxConcurrentIntrospections int
}

// Validate reports the first problem that would keep the config from working.
func (c Config) Validate() error {
	if c.Mode < ModeIntrospect || c.Mode > ModeJWTOrIntrospect {
		return configError("Mode", "unknown "+c.Mode.String(), nil)
	}
	if (c.Key != nil || c.Mode.introspects()) && (c.Key == nil || c.Key.PublicKey() == nil || c.Key.Type != serviceuser.KeyTypeApplication) {
		return configError("Key", "an API application key (type \"application\") is required", nil)
	}
	if c.ProjectID == "" && c.Mode.verifiesJWT() {
		return configError("ProjectID", "required in "+c.Mode.String()+": a JWT access token must name the API's project in its audience", nil)
	}
	if c.ProjectID != "" && !isProjectID(c.ProjectID) {
		return configError("ProjectID", "not a project's ID: give the ID alone, such as 289331442540658691, not a scope or claim", nil)
	}
	_, err := c.route()
	return err
}

// isProjectID reports whether id can be a ZITADEL resource ID: letters,
// digits, '-' and '_', as in no scope or claim, which hold ':'.
func isProjectID(id string) bool {
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return len(id) <= 200
}

// route checks Issuer, Route, IntrospectionURL and KeySetURL, and returns the route
// every request takes.
func (c Config) route() (*route.Route, error) {
	r, p := route.Parse(c.Issuer, route.Spec(c.Route), false)
	if p != nil {
		return nil, configError(p.Name("Issuer", "Route."), p.Text, p.Err)
	}
	if c.IntrospectionURL != "" {
		if err := r.CheckURL(c.IntrospectionURL); err != nil {
			return nil, configError("IntrospectionURL", err.Error(), err)
		}
	}
	if c.KeySetURL != "" {
		if !c.Mode.verifiesJWT() {
			return nil, configError("KeySetURL", "used only in ModeJWT and ModeJWTOrIntrospect, not "+c.Mode.String(), nil)
		}
		if err := r.CheckURL(c.KeySetURL); err != nil {
			return nil, configError("KeySetURL", err.Error(), err)
		}
	}
	if c.Timeout < 0 {
		return nil, configError("Timeout", "negative", nil)
	}
	if c.MaxConcurrentIntrospections < 0 {
		return nil, configError("MaxConcurrentIntrospections", "negative", nil)
	}
	return r, nil
}

// NewIntrospector checks the config and returns an Introspector. ctx
// supplies values only (an HTTP client under oauth2.HTTPClient).
func (c Config) NewIntrospector(ctx context.Context) (*Introspector, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var asserts *assertions
	if key := c.Key; key != nil {
		// One signature a minute at most (see assertionReuse): building the
		// signer for each costs nothing next to it.
		asserts = newAssertions(func(audience string) (string, error) { return serviceuser.SignAssertion(key, audience, 0) })
	}
	ttl := c.CacheTTL
	if ttl == 0 {
		ttl = DefaultCacheTTL
	}
	slots := c.MaxConcurrentIntrospections
	if slots == 0 {
		slots = DefaultMaxConcurrentIntrospections
	}
	r, _ := c.route() // checked by Validate
	issuer := r.Issuer()
	caller := r.Caller(c.httpClient(ctx), c.Timeout)
	cache := discovery.NewCache(caller, issuer, discoveryError, func(ctx context.Context, took time.Duration, err error) {
		if c.Hooks != nil {
			contain.Hook(c.Hooks.DiscoveryDone, ctx, hooks.DiscoveryDoneInfo{Issuer: issuer, Duration: took, Err: err})
		}
	})
	shared, health := make(chan struct{}, slots), &breaker{}
	newIn := func() *Introspector {
		return &Introspector{call: caller, endpoints: cache.Endpoints, assertion: asserts, url: c.IntrospectionURL, project: c.ProjectID, ttl: ttl, hooks: c.Hooks,
			active: newLRU(maxCached), inactive: newLRU(maxInactive), inFlight: map[[32]byte]*call{}, slots: shared, health: health}
	}
	in := newIn()
	in.mode = c.Mode
	if c.Mode.verifiesJWT() {
		in.jwt = &jwtCheck{keys: jwks.New(caller, keySetURL(c.KeySetURL, cache, caller.AllowPlainHTTP), discoveryError), issuer: issuer, project: c.ProjectID}
		in.verified = newLRU(maxCached)
		// AlwaysIntrospect's twin: its own results, the same slots.
		in.strict = newIn()
		in.strict.mode, in.strict.strict = ModeIntrospect, in.strict
	}
	return in, nil
}

// keySetURL returns configured, checked by Validate, or else discovery's
// jwks_uri; either passes the rule every URL a credential travels to
// passes: a key set fetched in clear could be replaced, and with it every
// token accepted.
func keySetURL(configured string, cache *discovery.Cache, allowPlainHTTP bool) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		if configured != "" {
			return configured, nil
		}
		ep, err := cache.Endpoints(ctx)
		if err != nil {
			return "", err
		}
		if ep.JWKSURL == "" {
			return "", discoveryError(&discovery.Error{URL: ep.Issuer, Problem: "the discovery document names no jwks_uri"})
		}
		if err := urlpolicy.Check(ep.JWKSURL, allowPlainHTTP); err != nil {
			return "", discoveryError(&discovery.Error{URL: ep.JWKSURL, Problem: "unusable jwks_uri", Err: err})
		}
		return ep.JWKSURL, nil
	}
}

// httpClient is HTTPClient, or the client ctx carries, or nil, as in
// golang.org/x/oauth2.
func (c Config) httpClient(ctx context.Context) *http.Client {
	if c.HTTPClient != nil || ctx == nil {
		return c.HTTPClient
	}
	hc, _ := ctx.Value(oauth2.HTTPClient).(*http.Client)
	return hc
}

// discoveryError is the *serviceuser.DiscoveryError of a failed discovery.
func discoveryError(e *discovery.Error) error { return (*serviceuser.DiscoveryError)(e) }

// configError reports a field of Config.
func configError(field, problem string, err error) error {
	return &serviceuser.ConfigError{Config: configName, Field: field, Problem: problem, Err: err}
}
