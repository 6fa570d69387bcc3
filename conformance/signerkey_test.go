package conformance

import (
	"context"
	"crypto"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/go-serviceuser/serviceuser"
)

// TestSignerKeyAccepted runs a key held by an opaque crypto.Signer (as a KMS
// or an HSM gives) against ZITADEL's checker.
func TestSignerKeyAccepted(t *testing.T) {
	signer := struct{ crypto.Signer }{newRSAKey(t)} // not an *rsa.PrivateKey
	for _, srv := range libraryServers {
		t.Run(srv.name, func(t *testing.T) {
			ref, keys := srv.start(t)
			key, err := serviceuser.NewSignerKey(signer, serviceuser.KeyFile{KeyID: randomID(t), UserID: randomID(t)})
			require.NoError(t, err)
			key = enrolKey(keys, key)
			cfg := serviceuser.Config{Key: key, Issuer: ref.Issuer(), Scopes: []string{oidc.ScopeOpenID}}
			ts := cfg.TokenSource(context.Background())
			defer ts.Close()
			tok, err := ts.Token()
			require.NoError(t, err)
			assert.NotEmpty(t, tok.AccessToken)
			assert.Equal(t, 1, ref.IssuedTokens())
		})
	}
}
