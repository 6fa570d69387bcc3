package introspection_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/introspection"
)

// callerKey keys a value of the Introspect caller's context.
type callerKey struct{}

// TestIntrospectionHooksGetTheCallersContext: IntrospectionDone gets the
// context of the Introspect call, and DiscoveryDone the values of the call
// that needed the discovery document, so that a tracer or a logger finds
// the caller's span or values there.
func TestIntrospectionHooksGetTheCallersContext(t *testing.T) {
	srv, _, token, _, app := introspectionSetup(t)
	var seen []string
	record := func(event string, ctx context.Context) {
		v, _ := ctx.Value(callerKey{}).(string)
		seen = append(seen, event+" "+v)
	}
	hk := &hooks.Hooks{
		IntrospectionDone: func(ctx context.Context, _ hooks.IntrospectionDoneInfo) { record("introspection", ctx) },
		DiscoveryDone:     func(ctx context.Context, _ hooks.DiscoveryDoneInfo) { record("discovery", ctx) },
	}
	in, err := introspection.Config{Key: mustKey(t, app.KeyFile), Issuer: srv.Issuer(), Hooks: hk}.NewIntrospector(t.Context())
	require.NoError(t, err)
	for _, caller := range []string{"first", "second"} {
		_, err = in.Introspect(context.WithValue(t.Context(), callerKey{}, caller), token)
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"discovery first", "introspection first", "introspection second"}, seen)
}
