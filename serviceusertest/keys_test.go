package serviceusertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeyFileLayout(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	require.True(t, strings.HasPrefix(string(u.KeyFile), `{"type":"serviceaccount","keyId":"`+u.KeyID+`","key":"-----BEGIN RSA PRIVATE KEY-----\n`), string(u.KeyFile))
	require.True(t, strings.HasSuffix(string(u.KeyFile), `-----END RSA PRIVATE KEY-----\n","expirationDate":"9999-12-31T23:59:59Z","userId":"`+u.UserID+`"}`), string(u.KeyFile))

	ids := map[string]bool{}
	numeric := regexp.MustCompile(`^[1-9][0-9]{17}$`)
	for _, id := range []string{u.UserID, u.KeyID, s.AddKey(u.UserID, u.PrivateKey.Public())} {
		assert.Regexp(t, numeric, id)
		assert.False(t, ids[id], "duplicate ID %s", id)
		ids[id] = true
	}
}

func TestKeyKinds(t *testing.T) {
	s := newServer(t, WithECKeys())
	cases := []struct {
		kind KeyKind
		pem  string
		alg  jose.SignatureAlgorithm
	}{
		{KeyRSA, "RSA PRIVATE KEY", jose.RS256},
		{KeyRSAPKCS8, "PRIVATE KEY", jose.RS256},
		{KeyRSAPKCS8, "PRIVATE KEY", jose.PS256},
		{KeyEC, "PRIVATE KEY", jose.ES256},
	}
	for _, c := range cases {
		t.Run(c.kind.String()+"/"+string(c.alg), func(t *testing.T) {
			u := s.NewServiceUserWithKey(c.kind)
			var kf struct{ Key string }
			require.NoError(t, json.Unmarshal(u.KeyFile, &kf))
			require.True(t, strings.HasPrefix(kf.Key, "-----BEGIN "+c.pem+"-----\n"), kf.Key)
			requireIssued(t, grant(t, s, sign(t, u.PrivateKey, c.alg, u.KeyID, claimsFor(s, u, time.Now()))))
		})
	}
}

func TestKeyLifecycle(t *testing.T) {
	s := newServer(t, WithECKeys())
	u := s.NewServiceUser()
	now := time.Now()

	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	extra := s.AddKey(u.UserID, ecKey.Public())
	requireIssued(t, grant(t, s, sign(t, ecKey, jose.ES256, extra, claimsFor(s, u, now))))

	s.RevokeKey(u.KeyID)
	requireInternal(t, grant(t, s, signAs(t, u, claimsFor(s, u, now))))
	require.ErrorIs(t, lastRejection(t, s), ErrKeyRevoked)
	require.ErrorIs(t, lastRejection(t, s), ErrSignatureInvalid)

	s.SetKeyExpiry(extra, now.Add(time.Minute))
	requireIssued(t, grant(t, s, sign(t, ecKey, jose.ES256, extra, claimsFor(s, u, now))))
	s.SetKeyExpiry(extra, now.Add(-time.Minute))
	requireInternal(t, grant(t, s, sign(t, ecKey, jose.ES256, extra, claimsFor(s, u, now))))
	require.ErrorIs(t, lastRejection(t, s), ErrKeyExpired)

	require.Panics(t, func() { s.AddKey("nope", ecKey.Public()) })
	require.Panics(t, func() { s.RevokeKey("nope") })
}

func TestZitadelMakesRSAKeysOnly(t *testing.T) {
	s := newServer(t)
	for _, kf := range [][]byte{s.NewServiceUser().KeyFile, s.NewApplication().KeyFile} {
		var f struct{ Key string }
		require.NoError(t, json.Unmarshal(kf, &f))
		block, _ := pem.Decode([]byte(f.Key))
		require.NotNil(t, block)
		assert.Equal(t, "RSA PRIVATE KEY", block.Type)
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		require.NoError(t, err)
		assert.Equal(t, 2048, key.N.BitLen())
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	u := s.NewServiceUser()
	assert.PanicsWithValue(t, "serviceusertest: ZITADEL makes RSA keys only; start the server WithECKeys() to mint KeyEC",
		func() { s.NewServiceUserWithKey(KeyEC) })
	assert.Panics(t, func() { s.AddKey(u.UserID, &ec.PublicKey) })
	assert.NotPanics(t, func() { s.AddKey(u.UserID, u.PrivateKey.Public().(*rsa.PublicKey)) })

	withEC := NewServer(WithECKeys())
	defer withEC.Close()
	ecUser := withEC.NewServiceUserWithKey(KeyEC)
	requireIssued(t, grant(t, withEC, signAs(t, ecUser, claimsFor(withEC, ecUser, time.Now()))))
	withEC.AddKey(ecUser.UserID, &ec.PublicKey)
}

func TestZitadelDeactivatedUser(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	cc, secret := s.NewServiceUserWithSecret()
	s.DeactivateUser(u.UserID)
	s.DeactivateUser(cc.UserID)
	const want = `{"error":"invalid_request","error_description":"Errors.User.NotActive"}`
	for _, legacy := range []bool{false, true} {
		s.SetLegacyErrors(legacy)
		r := grant(t, s, signAs(t, u, claimsFor(s, u, time.Now())))
		require.Equal(t, http.StatusBadRequest, r.status)
		assert.Equal(t, want, r.raw)
		assert.ErrorIs(t, lastRejection(t, s), ErrUserNotActive)

		r = withBasic(cc.Username, secret).post(t, s)
		require.Equal(t, http.StatusBadRequest, r.status)
		assert.Equal(t, want, r.raw)
	}
	// A bad assertion is still refused as such.
	s.SetLegacyErrors(false)
	c := claimsFor(s, u, time.Now())
	c["aud"] = "elsewhere"
	requireInternal(t, grant(t, s, signAs(t, u, c)))
	assert.Panics(t, func() { s.DeactivateUser("nobody") })
}

func TestApplicationKeyCannotGetTokens(t *testing.T) {
	s := newServer(t)
	app := s.NewApplication()
	requireInternal(t, grant(t, s, signApp(t, app, appClaims(s, app, time.Now()))))
	err := lastRejection(t, s)
	assert.ErrorIs(t, err, ErrSignatureInvalid)
	assert.ErrorIs(t, err, ErrKeyNotFound)
}

// withKeyFile returns u holding the key of file, a key file of u's.
func withKeyFile(t *testing.T, u *ServiceUser, file []byte) *ServiceUser {
	t.Helper()
	var f keyFile
	require.NoError(t, json.Unmarshal(file, &f))
	require.Equal(t, u.UserID, f.UserID)
	block, _ := pem.Decode([]byte(f.Key))
	require.NotNil(t, block)
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	require.NoError(t, err)
	c := *u
	c.KeyID, c.KeyFile, c.PrivateKey = f.KeyID, file, key
	return &c
}

// NewKey hands out a second key file for a user, laid out as ZITADEL writes
// it; both keys then get tokens for that user.
func TestNewKey(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	second := withKeyFile(t, u, s.NewKey(u.UserID))

	assert.NotEqual(t, u.KeyID, second.KeyID)
	assert.Regexp(t, `^[1-9][0-9]{17}$`, second.KeyID)
	assert.True(t, strings.HasPrefix(string(second.KeyFile), `{"type":"serviceaccount","keyId":"`+second.KeyID+`","key":"-----BEGIN RSA PRIVATE KEY-----\n`), string(second.KeyFile))
	assert.True(t, strings.HasSuffix(string(second.KeyFile), `-----END RSA PRIVATE KEY-----\n","expirationDate":"9999-12-31T23:59:59Z","userId":"`+u.UserID+`"}`), string(second.KeyFile))
	assert.Equal(t, 2048, second.PrivateKey.(*rsa.PrivateKey).N.BitLen())
	assert.False(t, second.PrivateKey.(*rsa.PrivateKey).Equal(u.PrivateKey), "a fresh key")

	for _, holder := range []*ServiceUser{second, u} {
		tok := requireIssued(t, grant(t, s, signAs(t, holder, claimsFor(s, holder, time.Now()))))
		assert.Equal(t, u.UserID, userinfo(t, s, tok).json["sub"])
	}
	s.RevokeKey(second.KeyID)
	requireInternal(t, grant(t, s, signAs(t, second, claimsFor(s, second, time.Now()))))
	assert.ErrorIs(t, lastRejection(t, s), ErrKeyRevoked)
	assert.PanicsWithValue(t, `serviceusertest: NewKey: unknown user "nobody"`, func() { s.NewKey("nobody") })
}
