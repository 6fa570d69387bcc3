package serviceuser

import (
	"context"
	"time"

	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/internal/discovery"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
)

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
