package assertion

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// TestLifetime: zero is the longest lifetime; one outside [2 min, 1 h] is
// refused, never clamped.
func TestLifetime(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		0:                MaxLifetime,
		2 * time.Minute:  2 * time.Minute,
		10 * time.Minute: 10 * time.Minute,
		MaxLifetime:      MaxLifetime,
	} {
		got, err := Lifetime(in)
		assert.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []time.Duration{-time.Second, time.Second, 2*time.Minute - time.Second, MaxLifetime + time.Second, 2 * time.Hour} {
		_, err := Lifetime(in)
		assert.Error(t, err, in)
	}
}

// TestSignedClaims: an assertion carries the key's id, the subject as iss
// and sub, the audience as an array, iat backdated and exp a lifetime
// after iat, and a jti of its own; it verifies with the key.
func TestSignedClaims(t *testing.T) {
	s, err := New(jose.RS256, testKey(), "kid-1", "user-1", 10*time.Minute)
	require.NoError(t, err)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	jwt, err := s.Sign("https://zitadel.example.com", now)
	require.NoError(t, err)
	jws, err := jose.ParseSignedCompact(jwt, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	assert.Equal(t, "kid-1", jws.Signatures[0].Header.KeyID)
	assert.Equal(t, "JWT", jws.Signatures[0].Header.ExtraHeaders[jose.HeaderType])
	payload, err := jws.Verify(&testKey().PublicKey)
	require.NoError(t, err)
	var c claims
	require.NoError(t, json.Unmarshal(payload, &c))
	iat := now.Add(-Backdate).Unix()
	assert.Equal(t, claims{Issuer: "user-1", Subject: "user-1", Audience: []string{"https://zitadel.example.com"},
		IssuedAt: iat, ExpiresAt: iat + 600, ID: c.ID}, c)
	assert.Len(t, c.ID, 32)

	again, err := s.Sign("https://zitadel.example.com", now)
	require.NoError(t, err)
	assert.NotEqual(t, jwt, again, "every assertion has a jti of its own")
}

// failingSigner is a key held elsewhere whose signing fails.
type failingSigner struct{ err error }

func (f failingSigner) Public() crypto.PublicKey { return &testKey().PublicKey }
func (f failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, f.err
}

// TestSignErrorIsTheKeys: the key's own error reaches the caller, which
// says what failed.
func TestSignErrorIsTheKeys(t *testing.T) {
	cause := errors.New("kms unavailable")
	s, err := New(jose.RS256, cryptosigner.Opaque(failingSigner{cause}), "kid-1", "user-1", 0)
	require.NoError(t, err)
	_, err = s.Sign("https://zitadel.example.com", time.Now())
	assert.ErrorIs(t, err, cause)
}

func TestNewRefusesKeyOfAnotherAlgorithm(t *testing.T) {
	_, err := New(jose.ES256, testKey(), "kid-1", "user-1", 0)
	assert.ErrorContains(t, err, "serviceuser: build signer")
}
