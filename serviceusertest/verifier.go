package serviceusertest

import (
	"context"
	"crypto"
	"errors"
	"fmt"
)

// AssertionVerifier checks a JWT profile assertion in place of the server's
// own checker, for instance with zitadel/oidc's op.VerifyJWTAssertion. issuer
// is the server's Issuer, which "aud" must name; keys finds the server's
// registered keys. It returns the ID of the user the token is for.
//
// An error refuses the request: the server records it in Rejections as it
// is, and answers it as it answers a refused assertion (see
// SetLegacyErrors).
type AssertionVerifier func(ctx context.Context, assertion, issuer string, keys KeyLookup) (subject string, err error)

// KeyLookup returns the usable public key keyID of user userID, the way
// ZITADEL looks a key up by (kid, iss). Server.LookupKey is one.
type KeyLookup func(keyID, userID string) (crypto.PublicKey, error)

// ErrUserNotFound: the subject an AssertionVerifier accepted is not a user of
// the server; or, wrapped with ErrNotProjected, the user of a JWT profile
// grant is not visible yet (see SetUserProjectionLag).
var ErrUserNotFound = errors.New("user not found")

// WithAssertionVerifier replaces the server's assertion checks by v. The
// server still checks the token request around the assertion, refuses a
// subject that is not one of its users or is deactivated, and issues, counts
// and records as usual. v reads its own clock: the server clock (see
// SetClockOffset) reaches it only through the keys' expiry and projection
// delay, which KeyLookup applies. A nil v keeps the server's own checks.
func WithAssertionVerifier(v AssertionVerifier) Option {
	return func(s *Server) { s.verifier = v }
}

// LookupKey returns the usable public key keyID of user userID, on the
// server clock: its error wraps ErrKeyNotFound (also for a key of another
// user, or one not projected yet), ErrKeyRevoked or ErrKeyExpired.
func (s *Server) LookupKey(keyID, userID string) (crypto.PublicKey, error) {
	return s.lookupKey(keyID, userID, s.clock())
}

// checkAssertion returns the user a JWT profile assertion is for, checked by
// the plugged AssertionVerifier if there is one.
func (s *Server) checkAssertion(ctx context.Context, assertion string) (string, error) {
	if s.verifier == nil {
		return s.verifyAssertion(assertion, s.clock())
	}
	subject, err := s.verifier(ctx, assertion, s.Issuer(), s.LookupKey)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	_, known := s.users[subject]
	s.mu.Unlock()
	if !known {
		return "", fmt.Errorf("%w: %q", ErrUserNotFound, subject)
	}
	return subject, nil
}
