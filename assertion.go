package serviceuser

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"

	"github.com/go-serviceuser/serviceuser/internal/assertion"
	"github.com/go-serviceuser/serviceuser/internal/keyfile"
	"github.com/go-serviceuser/serviceuser/internal/urlpolicy"
)

// assertionSigner signs RFC 7523 JWT assertions with one key.
type assertionSigner struct{ s *assertion.Signer }

func newAssertionSigner(key *KeyFile, lifetime time.Duration) (*assertionSigner, error) {
	alg, signingKey, err := signatureKey(key)
	if err != nil {
		return nil, err
	}
	s, err := assertion.New(alg, signingKey, key.KeyID, key.subject(), lifetime)
	if err != nil {
		return nil, err
	}
	return &assertionSigner{s: s}, nil
}

// signatureKey picks the algorithm ZITADEL verifies for the key's kind, and
// what go-jose signs with: the private key itself when it is in memory, an
// opaque signer when it is held elsewhere (NewSignerKey).
func signatureKey(key *KeyFile) (jose.SignatureAlgorithm, any, error) {
	switch s := key.signer().(type) {
	case *rsa.PrivateKey:
		return jose.RS256, s, nil
	case *ecdsa.PrivateKey:
		return jose.ES256, s, nil
	case *keyfile.ExternalSigner:
		return jose.RS256, cryptosigner.Opaque(s), nil
	default:
		return "", nil, keyFileError("key", "no private key (use ParseKeyFile, ReadKeyFile or NewSignerKey)", nil)
	}
}

// sign returns a compact JWT for the audience, issued at now (backdated) and
// expiring at most assertion.MaxLifetime after its "iat".
func (a *assertionSigner) sign(audience string, now time.Time) (string, error) {
	jwt, err := a.s.Sign(audience, now)
	if err != nil {
		return "", signError(err)
	}
	return jwt, nil
}

// signError wraps a signing failure; the *keyfile.SignerError of a key
// made by NewSignerKey already says what failed, and becomes a *SignerError.
func signError(err error) error {
	var se *keyfile.SignerError
	if errors.As(err, &se) {
		return (*SignerError)(se)
	}
	return fmt.Errorf("serviceuser: sign assertion: %w", err)
}

// SignAssertion signs one RFC 7523 assertion with key for audience (the
// issuer, such as "https://my-instance.zitadel.cloud"; trailing slashes are
// dropped, as ZITADEL's issuer has none), valid for lifetime: one hour (the
// longest ZITADEL documents) when zero; another must be from two minutes to
// one hour (a *ConfigError otherwise). The key may be a service user's (the
// assertion is then a JWT bearer grant) or an API application's (a client
// assertion, as introspection.Introspector sends).
//
// The audience must be an absolute https or http URL without user info,
// query or fragment. An http audience is accepted for any host:
// SignAssertion sends nothing, and whoever sends the assertion applies the
// rule for plain http (a config's Route.InsecureAllowPlainHTTP). A
// TokenSource signs its own assertions.
func SignAssertion(key *KeyFile, audience string, lifetime time.Duration) (string, error) {
	if key == nil {
		return "", &ConfigError{Field: "key", Problem: "missing"}
	}
	if _, err := assertion.Lifetime(lifetime); err != nil {
		return "", &ConfigError{Field: "lifetime", Problem: err.Error()}
	}
	aud, err := urlpolicy.NormalizeIssuer(audience, true)
	if err != nil {
		return "", &ConfigError{Field: "audience", Problem: err.Error()}
	}
	signer, err := newAssertionSigner(key, lifetime)
	if err != nil {
		return "", err
	}
	return signer.sign(aud, time.Now())
}
