package serviceuser

import (
	"context"

	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/internal/contain"
)

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
