package serviceuser

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/internal/discovery"
)

// TestKeyGrantBuildsSignerOncePerKey: the assertion signer is built once for
// a key and reused by every token request; a rotated key gets its own.
func TestKeyGrantBuildsSignerOncePerKey(t *testing.T) {
	key := testKeyFile(t)
	g, err := Config{Key: key, Issuer: "https://zitadel.example.com"}.grant()
	require.NoError(t, err)
	kg := g.(*keyGrant)
	ep := &discovery.Endpoints{Issuer: "https://zitadel.example.com", TokenURL: "https://zitadel.example.com/oauth/v2/token"}
	first := kg.signer
	require.NotNil(t, first, "built when the config is checked")
	for range 3 {
		_, err := kg.tokenRequest(t.Context(), ep, time.Now())
		require.NoError(t, err)
		assert.Same(t, first, kg.signer)
	}

	other := testKeyFile(t) // another *KeyFile, as a rotation hands out
	kg.current = func(context.Context) (*KeyFile, error) { return other, nil }
	_, err = kg.tokenRequest(t.Context(), ep, time.Now())
	require.NoError(t, err)
	assert.NotSame(t, first, kg.signer)
	assert.Same(t, other, kg.key)
}
