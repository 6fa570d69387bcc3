package introspection_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// junkFlood is the number of distinct junk tokens a flood sends: as many as
// the cache holds active results.
const junkFlood = 10000

// flood introspects junkFlood distinct junk tokens within 4 s, less than the
// 5 s an inactive answer is kept, so that none has expired at its end.
func flood(t *testing.T, in *introspection.Introspector) {
	t.Helper()
	for i := range junkFlood {
		r, err := in.Introspect(context.Background(), opaqueToken(fmt.Sprintf("junk-token-%06d", i)))
		require.NoError(t, err)
		require.False(t, r.Active)
		time.Sleep(4 * time.Second / junkFlood)
	}
}

// floodSetup is an in-process fake, an introspector for its API application
// and an active token for it; call inside a synctest bubble.
func floodSetup(t *testing.T) (*serviceusertest.Server, *serviceusertest.Application, *introspection.Introspector, string) {
	t.Helper()
	srv, app, token := containedSetup(t)
	in, err := introspection.Config{Key: mustKey(t, app.KeyFile), Issuer: srv.Issuer(), HTTPClient: srv.Client()}.
		NewIntrospector(context.Background())
	require.NoError(t, err)
	return srv, app, in, token
}

// TestJunkFloodLeavesRoomForActiveResults: a flood of distinct junk tokens
// does not keep an active result out of the cache: 50 calls with one active
// token after the flood cost one introspection.
func TestJunkFloodLeavesRoomForActiveResults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, _, in, token := floodSetup(t)
		flood(t, in)
		before := srv.IntrospectionRequests()
		for range 50 {
			r, err := in.Introspect(context.Background(), token)
			require.NoError(t, err)
			require.True(t, r.Active)
		}
		assert.Equal(t, 1, srv.IntrospectionRequests()-before)
	})
}

// TestJunkFloodKeepsActiveResults: active results cached before a flood of
// junk tokens are still answered from the cache after it.
func TestJunkFloodKeepsActiveResults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, app, in, token := floodSetup(t)
		tokens := []string{token}
		for range 19 {
			tokens = append(tokens, bubbleToken(t, srv, app))
		}
		for _, tok := range tokens {
			_, err := in.Introspect(context.Background(), tok)
			require.NoError(t, err)
		}
		flood(t, in)
		before := srv.IntrospectionRequests()
		for _, tok := range tokens {
			r, err := in.Introspect(context.Background(), tok)
			require.NoError(t, err)
			assert.True(t, r.Active)
		}
		assert.Equal(t, 0, srv.IntrospectionRequests()-before, "every active result still cached")
	})
}
