package serviceuser

import (
	"context"

	"github.com/go-serviceuser/serviceuser/internal/cache"
)

// refreshHooks returns the callbacks that tell h of each token request of a
// source's refreshes, with the refresh's context; nil for no hooks.
func refreshHooks(h *Hooks) (start func(context.Context, bool, int), done func(context.Context, cache.Outcome)) {
	if h == nil {
		return nil, nil
	}
	start = func(ctx context.Context, waited bool, attempt int) {
		h.refreshStart(ctx, RefreshStartInfo{Waited: waited, Attempt: attempt})
	}
	done = func(ctx context.Context, o cache.Outcome) {
		h.refreshDone(ctx, RefreshDoneInfo(o)) // the same fields: the conversion fails to compile when they differ
	}
	return start, done
}
