package introspection_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A handler that changes the Result it was given must not change what
// other requests with the same token see, from the cache or from a request
// they shared.
func TestResultsAreNotShared(t *testing.T) {
	_, in, token, user, _ := introspectionSetup(t)
	first, err := in.Introspect(context.Background(), token)
	require.NoError(t, err)
	first.Subject = "changed"
	first.Audience = append(first.Audience[:0], "changed")

	second, err := in.Introspect(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, user.UserID, second.Subject)
	assert.NotContains(t, second.Audience, "changed")

	// Concurrent handlers changing their own copy: no data race.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			r, err := in.Introspect(context.Background(), token)
			if assert.NoError(t, err) {
				r.Scope += " more"
			}
		})
	}
	wg.Wait()
}
