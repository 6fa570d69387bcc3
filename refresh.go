package serviceuser

import (
	"context"

	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/internal/cache"
)

// refreshHooks returns the callbacks that tell h of each token request of a
// source's refreshes, with the refresh's context; nil for no hooks.
func refreshHooks(h *hookSet) (start func(context.Context, bool, int), done func(context.Context, cache.Outcome)) {
	if h == nil {
		return nil, nil
	}
	start = func(ctx context.Context, waited bool, attempt int) {
		h.refreshStart(ctx, hooks.RefreshStartInfo{Waited: waited, Attempt: attempt})
	}
	done = func(ctx context.Context, o cache.Outcome) {
		h.refreshDone(ctx, hooks.RefreshDoneInfo(o)) // the same fields: the conversion fails to compile when they differ
	}
	return start, done
}
