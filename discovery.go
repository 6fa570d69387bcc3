package serviceuser

import (
	"context"
	"net/http"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/discovery"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
	"github.com/go-serviceuser/serviceuser/internal/urlpolicy"
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
	iss, err := urlpolicy.NormalizeIssuer(issuer, false)
	if err != nil {
		return nil, &ConfigError{Field: "issuer", Problem: err.Error()}
	}
	ep, de := discovery.Fetch(ctx, httpcall.New(client, 0), iss)
	if de != nil {
		return nil, discoveryError(de)
	}
	return (*Endpoints)(ep), nil
}

// discoveryError is the *DiscoveryError of a failed discovery: a
// *discovery.Error has its fields.
func discoveryError(e *discovery.Error) error { return (*DiscoveryError)(e) }

// discover returns the endpoints func of a pipeline: issuer's discovery
// document, fetched with c once, told to hooks with the ctx of the token
// request that needed it.
func discover(c *httpcall.Caller, issuer string, hooks *Hooks) func(context.Context) (*Endpoints, error) {
	cache := discovery.NewCache(c, issuer, discoveryError, func(ctx context.Context, took time.Duration, err error) {
		hooks.discoveryDone(ctx, DiscoveryDoneInfo{Issuer: issuer, Duration: took, Err: err})
	})
	return func(ctx context.Context) (*Endpoints, error) {
		ep, err := cache.Endpoints(ctx)
		return (*Endpoints)(ep), err
	}
}
