package serviceusertest

import (
	"context"
	"crypto"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stubVerifier answers every assertion with subject and err, and records
// what the server handed it.
type stubVerifier struct {
	subject string
	err     error

	mu         sync.Mutex
	calls      int
	assertions []string
	issuer     string
	keys       KeyLookup
}

func (v *stubVerifier) verify(_ context.Context, assertion, issuer string, keys KeyLookup) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	v.assertions = append(v.assertions, assertion)
	v.issuer, v.keys = issuer, keys
	return v.subject, v.err
}

func (v *stubVerifier) called() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.calls
}

func TestAssertionVerifierDecidesInsteadOfTheServer(t *testing.T) {
	v := &stubVerifier{}
	s := newServer(t, WithAssertionVerifier(v.verify))
	u := s.NewServiceUser()
	v.subject = u.UserID

	// Not even a JWT: the server's own checks would refuse it.
	tok := requireIssued(t, grant(t, s, "accepted-by-the-verifier"))
	info := userinfo(t, s, tok)
	require.Equal(t, http.StatusOK, info.status, info.raw)
	assert.Equal(t, u.UserID, info.json["sub"])
	assert.Equal(t, []string{"accepted-by-the-verifier"}, v.assertions)
	assert.Equal(t, s.Issuer(), v.issuer)
	assert.Equal(t, 1, s.IssuedTokens())
	assert.Empty(t, s.Rejections())

	pub, err := v.keys(u.KeyID, u.UserID)
	require.NoError(t, err)
	assert.True(t, u.PrivateKey.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub))
}

func TestAssertionVerifierRefusal(t *testing.T) {
	refused := errors.New("refused by the plugged verifier")
	v := &stubVerifier{err: refused}
	s := newServer(t, WithAssertionVerifier(v.verify))

	requireInternal(t, grant(t, s, "any"))
	assert.ErrorIs(t, lastRejection(t, s), refused)

	s.SetLegacyErrors(true)
	r := grant(t, s, "any")
	require.Equal(t, http.StatusBadRequest, r.status, r.raw)
	assert.Equal(t, "invalid_grant", r.json["error"])
	assert.Equal(t, refused.Error(), r.json["error_description"])
	assert.Len(t, s.Rejections(), 2)
	assert.Zero(t, s.IssuedTokens())
	assert.Equal(t, 2, s.TokenRequests())
}

func TestAssertionVerifierSubjectMustBeAnActiveUser(t *testing.T) {
	v := &stubVerifier{subject: "100000000000000001"}
	s := newServer(t, WithAssertionVerifier(v.verify))

	requireInternal(t, grant(t, s, "any"))
	assert.ErrorIs(t, lastRejection(t, s), ErrUserNotFound)

	v.subject = ""
	requireInternal(t, grant(t, s, "any"))
	assert.ErrorIs(t, lastRejection(t, s), ErrUserNotFound)

	u, _ := s.NewServiceUserWithSecret()
	s.DeactivateUser(u.UserID)
	v.subject = u.UserID
	r := grant(t, s, "any")
	require.Equal(t, http.StatusBadRequest, r.status, r.raw)
	assert.Equal(t, "Errors.User.NotActive", r.json["error_description"])
	assert.ErrorIs(t, lastRejection(t, s), ErrUserNotActive)
	assert.Zero(t, s.IssuedTokens())
}

func TestAssertionVerifierSeesOnlyWellFormedRequests(t *testing.T) {
	v := &stubVerifier{}
	s := newServer(t, WithAssertionVerifier(v.verify))
	for _, form := range []url.Values{
		{"grant_type": {GrantTypeJWTBearer}, "assertion": {"a"}},
		{"grant_type": {GrantTypeJWTBearer}, "scope": {"openid"}},
		{"grant_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "assertion": {"a"}, "scope": {"openid"}},
	} {
		r := postForm(t, s, form)
		assert.Equal(t, http.StatusBadRequest, r.status, r.raw)
	}
	assert.Zero(t, v.called())
	assert.Len(t, s.Rejections(), 3)
}

func TestLookupKey(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		now := time.Now()
		u, other := s.NewServiceUser(), s.NewServiceUser()

		_, err := s.LookupKey(u.KeyID, u.UserID)
		require.NoError(t, err)
		_, err = s.LookupKey(u.KeyID, other.UserID)
		assert.ErrorIs(t, err, ErrKeyNotFound, "a key is looked up by (kid, iss)")
		_, err = s.LookupKey("123", u.UserID)
		assert.ErrorIs(t, err, ErrKeyNotFound)

		s.SetKeyExpiry(other.KeyID, now)
		_, err = s.LookupKey(other.KeyID, other.UserID)
		assert.ErrorIs(t, err, ErrKeyExpired)

		s.RevokeKey(u.KeyID)
		_, err = s.LookupKey(u.KeyID, u.UserID)
		assert.ErrorIs(t, err, ErrKeyRevoked)
	})
}
