package serviceusertest

import (
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keySet fetches the key set discovery names.
func keySet(t *testing.T, s *Server) (response, jose.JSONWebKeySet) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.Issuer()+discoveryPath, nil)
	require.NoError(t, err)
	uri, _ := do(t, s, req).json["jwks_uri"].(string)
	require.Equal(t, s.Issuer()+"/oauth/v2/keys", uri)
	req, err = http.NewRequest(http.MethodGet, uri, nil)
	require.NoError(t, err)
	r := do(t, s, req)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal([]byte(r.raw), &set))
	return r, set
}

// kids lists the key IDs of set, in order.
func kids(set jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

// signedBy returns the kid a JWT names.
func signedBy(t *testing.T, jwt string) string {
	t.Helper()
	jws, err := jose.ParseSignedCompact(jwt, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	return jws.Signatures[0].Header.KeyID
}

func TestZitadelKeySet(t *testing.T) {
	s := newServer(t)
	r, set := keySet(t, s)
	assert.Equal(t, "max-age=300, must-revalidate", r.header.Get("Cache-Control"))
	assert.NotContains(t, r.header, "Etag")
	assert.NotContains(t, r.header, "Last-Modified")
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))

	require.Len(t, set.Keys, 2, "one active key, one published ahead of use")
	assert.NotEqual(t, set.Keys[0].KeyID, set.Keys[1].KeyID)
	for _, k := range set.Keys {
		assert.Regexp(t, `^[1-9][0-9]{17}$`, k.KeyID)
		assert.Equal(t, "RS256", k.Algorithm)
		assert.Equal(t, "sig", k.Use)
		pub, ok := k.Key.(*rsa.PublicKey)
		require.True(t, ok, "%T", k.Key)
		assert.Equal(t, 2048, pub.N.BitLen())
	}
	assert.False(t, set.Keys[0].Key.(*rsa.PublicKey).Equal(set.Keys[1].Key), "two different keys")

	var raw struct{ Keys []map[string]any }
	require.NoError(t, json.Unmarshal([]byte(r.raw), &raw))
	for _, k := range raw.Keys {
		assert.Equal(t, []string{"alg", "e", "kid", "kty", "n", "use"}, fields(k))
		assert.Equal(t, "RSA", k["kty"])
	}

	// The ID token is signed with one of them; the same one every time
	// until a rotation.
	u := s.NewServiceUser()
	idToken := func() string {
		r := grantWithScope(t, s, u, time.Now(), "openid")
		requireIssued(t, r)
		return r.json["id_token"].(string)
	}
	kid := signedBy(t, idToken())
	assert.Contains(t, kids(set), kid)
	assert.Equal(t, kid, signedBy(t, idToken()))
	_, again := keySet(t, s)
	assert.Equal(t, kids(set), kids(again), "the key set stands still without a rotation")
	assert.Equal(t, 2, s.KeySetRequests())
}

// RotateSigningKey: the key published ahead becomes active, a new key is
// published ahead, the key active until then leaves the key set.
func TestRotateSigningKey(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	idToken := func() string {
		r := grantWithScope(t, s, u, time.Now(), "openid")
		requireIssued(t, r)
		return r.json["id_token"].(string)
	}
	_, before := keySet(t, s)
	old := idToken()
	active := signedBy(t, old)
	ahead := kids(before)[1-slices.Index(kids(before), active)]

	for range 2 {
		s.RotateSigningKey()
		_, after := keySet(t, s)
		require.Len(t, after.Keys, 2)
		assert.NotContains(t, kids(after), active, "the old active key is dropped")
		assert.Contains(t, kids(after), ahead, "the key published ahead stays")
		fresh := idToken()
		assert.Equal(t, ahead, signedBy(t, fresh), "and now signs")
		verifyJWT(t, s, fresh)
		_, err := jose.ParseSignedCompact(old, []jose.SignatureAlgorithm{jose.RS256})
		require.NoError(t, err)
		assert.Empty(t, after.Key(active), "a token of the old key finds no key")

		newAhead := kids(after)[1-slices.Index(kids(after), ahead)]
		assert.NotContains(t, kids(before), newAhead, "a new key is published ahead")
		assert.False(t, after.Key(newAhead)[0].Key.(*rsa.PublicKey).Equal(after.Key(ahead)[0].Key), "a new key, not a new name")
		for _, k := range before.Keys {
			assert.False(t, after.Key(newAhead)[0].Key.(*rsa.PublicKey).Equal(k.Key), "never seen before")
		}
		before, active, ahead, old = after, ahead, newAhead, fresh
	}
}

// The ID token of a JWT profile grant expires when it is issued.
func TestZitadelIDTokenExpiresAtIssue(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		u := s.NewServiceUser()
		for _, lifetime := range []time.Duration{DefaultTokenLifetime, 30 * time.Second, 0} {
			s.SetTokenLifetime(lifetime)
			now := time.Now()
			r := grantWithScope(t, s, u, now, "openid")
			requireIssued(t, r)
			c := verifyJWT(t, s, r.json["id_token"].(string))
			assert.Equal(t, float64(now.Unix()), c["iat"])
			assert.Equal(t, c["iat"], c["exp"], "lifetime %v", lifetime)
			time.Sleep(1500 * time.Millisecond)
		}
	})
}
