package serviceuser

import (
	"context"

	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/internal/bearer"
	"github.com/go-serviceuser/serviceuser/internal/contain"
)

// sourceKey is the context key under which hooks find the token source
// whose work they observe: a refresh's context answers it, and a bearer
// transport sets it for a rejected token.
type sourceKey = bearer.SourceKey

// SourceFromContext returns the token source whose work a callback of
// [hooks.Hooks] observes, from the context the callback got: the same
// *TokenSource for all of that source's events. It is nil for an
// introspector's events, for a bearer.Transport of your own, and for a nil
// ctx.
func SourceFromContext(ctx context.Context) *TokenSource {
	if ctx == nil {
		return nil
	}
	ts, _ := ctx.Value(sourceKey{}).(*TokenSource)
	return ts
}

// hookSet is a config's *hooks.Hooks as the library calls them: each
// method runs one callback, if set, and drops its panic; a nil *hookSet has
// none.
type hookSet hooks.Hooks

func (h *hookSet) discoveryDone(ctx context.Context, i hooks.DiscoveryDoneInfo) {
	if h != nil {
		contain.Hook(h.DiscoveryDone, ctx, i)
	}
}

func (h *hookSet) refreshStart(ctx context.Context, i hooks.RefreshStartInfo) {
	if h != nil {
		contain.Hook(h.RefreshStart, ctx, i)
	}
}

func (h *hookSet) refreshDone(ctx context.Context, i hooks.RefreshDoneInfo) {
	if h != nil {
		contain.Hook(h.RefreshDone, ctx, i)
	}
}

func (h *hookSet) credentialReloaded(ctx context.Context, i hooks.CredentialReloadedInfo) {
	if h != nil {
		contain.Hook(h.CredentialReloaded, ctx, i)
	}
}
