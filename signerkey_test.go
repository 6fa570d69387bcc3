package serviceuser_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// kmsSigner stands for a key held by a KMS or an HSM: it is not an
// *rsa.PrivateKey, keeps its key out of reach and counts Sign calls. sign,
// when set, replaces the signing.
type kmsSigner struct {
	key   *rsa.PrivateKey
	calls atomic.Int32
	sign  func(digest []byte) ([]byte, error)
}

func (s *kmsSigner) Public() crypto.PublicKey { return &s.key.PublicKey }

func (s *kmsSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.calls.Add(1)
	if s.sign != nil {
		return s.sign(digest)
	}
	return s.key.Sign(r, digest, opts)
}

// publicOnly is a signer whose Public method answers pub (or panics) and
// which never signs.
type publicOnly struct {
	pub   crypto.PublicKey
	panic bool
}

func (s publicOnly) Public() crypto.PublicKey {
	if s.panic {
		panic("hsm session closed")
	}
	return s.pub
}

func (publicOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("publicOnly cannot sign")
}

var signerRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// signerKeySetup registers a fresh KMS signer's public key with a new service
// user of a fake ZITADEL and returns the signer key for it.
func signerKeySetup(t *testing.T) (*serviceusertest.Server, *kmsSigner, *serviceuser.KeyFile, string) {
	t.Helper()
	srv := serviceusertest.NewServer()
	t.Cleanup(srv.Close)
	signer := &kmsSigner{key: signerRSAKey()}
	user := srv.NewServiceUser()
	keyID := srv.AddKey(user.UserID, signer.Public())
	key, err := serviceuser.NewSignerKey(signer, serviceuser.KeyFile{KeyID: keyID, UserID: user.UserID})
	require.NoError(t, err)
	return srv, signer, key, user.UserID
}

func TestSignerKeyGetsTokens(t *testing.T) {
	srv, signer, key, _ := signerKeySetup(t)
	ts := tokenSource(t, serviceuser.Config{Key: key, Issuer: srv.Issuer()})
	for range 3 {
		tok, err := ts.Token()
		require.NoError(t, err)
		assert.True(t, tok.Valid())
	}
	assert.Equal(t, 1, srv.IssuedTokens())
	assert.Equal(t, int32(1), signer.calls.Load(), "one assertion signed by the signer")
	assert.Empty(t, srv.Rejections())
}

func TestSignerKeyAssertionVerifies(t *testing.T) {
	srv, signer, key, userID := signerKeySetup(t)
	assertion, err := serviceuser.SignAssertion(key, srv.Issuer(), 0)
	require.NoError(t, err)
	jws, err := jose.ParseSignedCompact(assertion, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	assert.Equal(t, key.KeyID, jws.Signatures[0].Header.KeyID)
	payload, err := jws.Verify(&signer.key.PublicKey)
	require.NoError(t, err)
	var claims struct {
		Iss, Sub string
		Aud      []string
	}
	require.NoError(t, json.Unmarshal(payload, &claims))
	assert.Equal(t, userID, claims.Iss)
	assert.Equal(t, userID, claims.Sub)
	assert.Equal(t, []string{srv.Issuer()}, claims.Aud)
}

func TestApplicationSignerKeyAuthenticatesIntrospection(t *testing.T) {
	srv := serviceusertest.NewServer()
	t.Cleanup(srv.Close)
	app := srv.NewApplication()
	signer := &kmsSigner{key: app.PrivateKey.(*rsa.PrivateKey)}
	key, err := serviceuser.NewSignerKey(signer, serviceuser.KeyFile{Type: serviceuser.KeyTypeApplication, KeyID: app.KeyID, ClientID: app.ClientID})
	require.NoError(t, err)
	assert.Equal(t, serviceuser.KeyTypeApplication, key.Type)
	in, err := introspection.Config{Key: key, Issuer: srv.Issuer()}.NewIntrospector(context.Background())
	require.NoError(t, err)
	r, err := in.Introspect(context.Background(), strings.Repeat("n", 104))
	require.NoError(t, err, "the server accepted the signer's client assertion")
	assert.False(t, r.Active)
	assert.Equal(t, int32(1), signer.calls.Load())
}

func TestNewSignerKeyRefusesUnusableSigners(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	good := &kmsSigner{key: signerRSAKey()}
	cases := map[string]struct {
		signer        crypto.Signer
		keyID, userID string
		field, words  string
	}{
		"no signer":          {nil, "kid", "user", "key", "missing"},
		"typed nil signer":   {(*rsa.PrivateKey)(nil), "kid", "user", "key", "panicked"},
		"Public panics":      {publicOnly{panic: true}, "kid", "user", "key", "panicked"},
		"no public key":      {publicOnly{}, "kid", "user", "key", "no public key"},
		"EC P-256":           {p256, "kid", "user", "key", "EC"},
		"Ed25519":            {publicOnly{pub: edPub}, "kid", "user", "key", "Ed25519"},
		"RSA 1024 bits":      {rsa1024, "kid", "user", "key", "2048"},
		"RSA without N":      {publicOnly{pub: &rsa.PublicKey{E: 65537}}, "kid", "user", "key", "modulus"},
		"missing keyId":      {good, "", "user", "keyId", "missing"},
		"keyId with newline": {good, "kid\nlevel=ERROR", "user", "keyId", "control"},
		"missing userId":     {good, "kid", " ", "userId", "missing"},
		"userId too long":    {good, "kid", strings.Repeat("1", 201), "userId", "at most 200"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			key, err := serviceuser.NewSignerKey(tc.signer, serviceuser.KeyFile{KeyID: tc.keyID, UserID: tc.userID})
			assert.Nil(t, key)
			var kfe *serviceuser.KeyFileError
			require.ErrorAs(t, err, &kfe)
			assert.ErrorIs(t, err, serviceuser.ErrInvalidKeyFile)
			assert.Equal(t, tc.field, kfe.Field)
			assert.Contains(t, err.Error(), tc.words)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
	_, err := serviceuser.NewSignerKey(good, serviceuser.KeyFile{Type: serviceuser.KeyTypeApplication, KeyID: "kid", UserID: "user"})
	assert.ErrorContains(t, err, "field clientId: missing")
	_, err = serviceuser.NewSignerKey(good, serviceuser.KeyFile{Type: "service", KeyID: "kid", UserID: "user"})
	assert.ErrorContains(t, err, "field type")
}

// signerFailure runs one token request with a signer whose Sign is sign and
// returns its error; no request may reach the server.
func signerFailure(t *testing.T, sign func(digest []byte) ([]byte, error)) error {
	t.Helper()
	srv, signer, key, _ := signerKeySetup(t)
	signer.sign = sign
	_, err := tokenSource(t, serviceuser.Config{Key: key, Issuer: srv.Issuer()}).Token()
	require.Error(t, err)
	assert.Equal(t, int32(1), signer.calls.Load())
	assert.Equal(t, 0, srv.TokenRequests(), "nothing is sent without a signature")
	assert.NotContains(t, err.Error(), "\n")
	return err
}

func TestSignerKeyFailingSigner(t *testing.T) {
	errUnavailable := errors.New("kms unavailable")
	kmsToken := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJrbXMifQ.c2lnbmF0dXJl"
	err := signerFailure(t, func([]byte) ([]byte, error) {
		return nil, fmt.Errorf("POST /sign (Authorization: Bearer %s)\nretry later: %w", kmsToken, errUnavailable)
	})
	var se *serviceuser.SignerError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, errUnavailable, "the signer's error is wrapped")
	assert.Contains(t, err.Error(), "kms unavailable")
	assert.NotContains(t, err.Error(), kmsToken, "a credential in the signer's error is not repeated")
	assert.NotErrorIs(t, err, serviceuser.ErrInvalidKeyFile, "a signer outage is retried like a network error")
}

func TestSignerKeyPanickingSigner(t *testing.T) {
	err := signerFailure(t, func([]byte) ([]byte, error) { panic("-----BEGIN RSA PRIVATE KEY----- MIIE") })
	var se *serviceuser.SignerError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, err.Error(), "panicked")
	assert.NotContains(t, err.Error(), "MIIE", "a panic value is not repeated")

	err = signerFailure(t, func([]byte) ([]byte, error) {
		var m map[string]int
		//lint:ignore SA5000 a nil map write is the runtime error under test
		m["x"]++
		return nil, nil
	})
	assert.Contains(t, err.Error(), "assignment to entry in nil map")

	err = signerFailure(t, func([]byte) ([]byte, error) { panic(fakeRuntimeError("MIIE")) })
	assert.Contains(t, err.Error(), "panicked")
	assert.NotContains(t, err.Error(), "MIIE", "only package runtime's own errors keep their text")
}

// fakeRuntimeError is a panic value that claims to be a runtime.Error.
type fakeRuntimeError string

func (e fakeRuntimeError) Error() string { return string(e) }
func (fakeRuntimeError) RuntimeError()   {}

func TestSignerKeyWrongSignature(t *testing.T) {
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	err = signerFailure(t, func(digest []byte) ([]byte, error) {
		return rsa.SignPKCS1v15(nil, other, crypto.SHA256, digest)
	})
	var se *serviceuser.SignerError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, err.Error(), "does not verify")

	err = signerFailure(t, func([]byte) ([]byte, error) { return nil, nil })
	assert.Contains(t, err.Error(), "does not verify")
}

func TestSignerKeyPrinting(t *testing.T) {
	_, signer, key, userID := signerKeySetup(t)
	assert.Equal(t, "RSA-2048 (external signer)", key.KeyDescription())
	assert.Equal(t, &signer.key.PublicKey, key.PublicKey())
	assert.Equal(t, serviceuser.KeyTypeServiceAccount, key.Type)
	assert.True(t, key.ExpirationDate.IsZero())

	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("k", "key", key)
	out := logs.String() + fmt.Sprintf("%v %+v %#v %s", key, *key, key, key)
	assert.Contains(t, out, userID)
	assert.Contains(t, out, "RSA-2048 (external signer) [redacted]")
	assert.NotContains(t, out, signer.key.D.String()[:20])
	assert.NotContains(t, out, signer.key.Primes[0].String()[:20])
}

// TestSignerKeyTakesItsIdentityFromID: NewSignerKey takes the type, ids and
// expiration date of the key file it is given, and a key past that date
// makes no request.
func TestSignerKeyTakesItsIdentityFromID(t *testing.T) {
	srv, signer, _, userID := signerKeySetup(t)
	expired := time.Now().Add(-time.Minute).Truncate(time.Second)
	key, err := serviceuser.NewSignerKey(signer, serviceuser.KeyFile{KeyID: "kid", UserID: userID, ExpirationDate: expired})
	require.NoError(t, err)
	assert.Equal(t, serviceuser.KeyTypeServiceAccount, key.Type, "an empty type is a service user's key")
	assert.Equal(t, expired, key.ExpirationDate)
	_, err = serviceuser.Config{Key: key, Issuer: srv.Issuer()}.Token(t.Context())
	assert.ErrorIs(t, err, serviceuser.ErrKeyExpired)
	assert.Zero(t, srv.TokenRequests())
}
