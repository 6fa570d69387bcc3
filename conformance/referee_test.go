package conformance

import (
	"crypto"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// newReferee starts a referee that is closed when t's test ends.
func newReferee(t testing.TB, opts ...RefereeOption) *serviceusertest.Server {
	ref := NewReferee(opts...)
	t.Cleanup(ref.Close)
	return ref
}

// newKeyServer starts a serviceusertest server to hold keys that another
// server looks up; it is closed when t's test ends.
func newKeyServer(t testing.TB) *serviceusertest.Server {
	srv := serviceusertest.NewServer(serviceusertest.WithECKeys())
	t.Cleanup(srv.Close)
	return srv
}

// newProviderReferee starts a ProviderReferee that is closed when t's test
// ends.
func newProviderReferee(t testing.TB, keys serviceusertest.KeyLookup) *ProviderReferee {
	t.Helper()
	p, err := NewProviderReferee(keys)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

// enrol registers pub on srv as the key of a new service user, without
// making a key of its own (which is slow), and returns their IDs.
func enrol(srv *serviceusertest.Server, pub crypto.PublicKey) (userID, keyID string) {
	u, _ := srv.NewServiceUserWithSecret()
	return u.UserID, srv.AddKey(u.UserID, pub)
}

// enrolKey registers key's public half on srv as the key of a new service
// user, and returns the same private key under the IDs srv gave it.
func enrolKey(srv *serviceusertest.Server, key *serviceuser.KeyFile) *serviceuser.KeyFile {
	out := *key
	out.UserID, out.KeyID = enrol(srv, key.PublicKey())
	return &out
}

// TestRefereeSeesKeyChanges: the referee's checker finds keys through the
// fake's key lookup, so a key revoked or expired on the server is refused by
// zitadel/oidc's code with the fake's reason inside oidc.ErrSignatureInvalid.
func TestRefereeSeesKeyChanges(t *testing.T) {
	ref := newReferee(t)
	_, pemKey := keyKinds[2].make(t)
	key, err := serviceuser.ParseKeyFile(keyFileJSON(t, randomID(t), randomID(t), pemKey))
	require.NoError(t, err)
	revoked, expired := enrolKey(ref, key), enrolKey(ref, key)
	grant := func(k *serviceuser.KeyFile) int {
		assertion, err := serviceuser.SignAssertion(k, ref.Issuer(), 0)
		require.NoError(t, err)
		status, _ := postToken(t, ref.TokenURL(), bearerForm(assertion))
		return status
	}
	require.Equal(t, http.StatusOK, grant(revoked))
	require.Equal(t, http.StatusOK, grant(expired))

	ref.RevokeKey(revoked.KeyID)
	ref.SetKeyExpiry(expired.KeyID, time.Now())
	for _, tc := range []struct {
		key    *serviceuser.KeyFile
		reason error
	}{{revoked, serviceusertest.ErrKeyRevoked}, {expired, serviceusertest.ErrKeyExpired}} {
		assert.Equal(t, http.StatusInternalServerError, grant(tc.key))
		assert.ErrorIs(t, lastError(ref.Rejections()), oidc.ErrSignatureInvalid)
		assert.ErrorIs(t, lastError(ref.Rejections()), tc.reason)
	}
	assert.Equal(t, 2, ref.IssuedTokens())
}
