package serviceuser

import (
	"context"
	"net/http"
	"time"

	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/internal/discovery"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
	iroute "github.com/go-serviceuser/serviceuser/internal/route"
)

// Endpoints are the ZITADEL endpoints of an issuer that its discovery
// document names and the library uses.
type Endpoints struct {
	// TokenURL is the token endpoint: configs send their token requests there.
	TokenURL string
	// UserinfoURL is the userinfo endpoint, for FetchUserinfo.
	UserinfoURL string
}

// Discover fetches {issuer}/.well-known/openid-configuration by route, with
// client (nil means a client of the library's own, closed afterwards), and
// checks that it describes issuer and names endpoints the route may send
// credentials to. An issuer or route that cannot work is a *ConfigError
// naming "issuer" or the route's field ("route.Address").
func Discover(ctx context.Context, issuer string, route Route, client *http.Client) (*Endpoints, error) {
	r, p := iroute.Parse(issuer, iroute.Spec(route), false)
	if p != nil {
		return nil, routeError("", "issuer", "route.", p)
	}
	c := r.Caller(client, 0)
	defer c.CloseIdle()
	ep, de := discovery.Fetch(ctx, c, r.Issuer())
	if de != nil {
		return nil, discoveryError(de)
	}
	return &Endpoints{TokenURL: ep.TokenURL, UserinfoURL: ep.UserinfoURL}, nil
}

// discoveryError is the *DiscoveryError of a failed discovery: a
// *discovery.Error has its fields.
func discoveryError(e *discovery.Error) error { return (*DiscoveryError)(e) }

// discover returns the endpoints func of a pipeline: issuer's discovery
// document, fetched with c once, told to h with the ctx of the token
// request that needed it.
func discover(c *httpcall.Caller, issuer string, h *hookSet) func(context.Context) (*discovery.Endpoints, error) {
	cache := discovery.NewCache(c, issuer, discoveryError, func(ctx context.Context, took time.Duration, err error) {
		h.discoveryDone(ctx, hooks.DiscoveryDoneInfo{Issuer: issuer, Duration: took, Err: err})
	})
	return cache.Endpoints
}
