package conformance

import (
	"crypto"
	"testing"

	"github.com/stretchr/testify/require"

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
