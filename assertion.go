package serviceuser

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"

	"github.com/go-serviceuser/serviceuser/internal/urlpolicy"
)

// MaxAssertionLifetime is the longest assertion lifetime ZITADEL documents.
const MaxAssertionLifetime = time.Hour

// iatBackdate moves "iat" into the past so that a client clock running ahead
// of the server's (ZITADEL allows 1 s) does not produce an assertion "issued
// in the future". 60 s covers a drift of ±30 s with room to spare.
const iatBackdate = 60 * time.Second

// minAssertionLifetime keeps "exp" ahead of a server clock that runs 30 s
// ahead of ours, after the backdating of "iat".
const minAssertionLifetime = 2 * time.Minute

// assertionSigner signs RFC 7523 JWT assertions for one key. The go-jose
// signer is built once; every call signs fresh claims.
type assertionSigner struct {
	signer   jose.Signer
	subject  string // iss and sub: the user id (or client id for application keys)
	lifetime time.Duration
}

// assertionClaims are the claims ZITADEL checks. "aud" is always an array.
type assertionClaims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  []string `json:"aud"`
	IssuedAt  int64    `json:"iat"`
	ExpiresAt int64    `json:"exp"`
	ID        string   `json:"jti"`
}

func newAssertionSigner(key *KeyFile, lifetime time.Duration) (*assertionSigner, error) {
	alg, signingKey, err := signatureKey(key)
	if err != nil {
		return nil, err
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: alg,
		Key:       jose.JSONWebKey{Key: signingKey, KeyID: key.KeyID, Algorithm: string(alg)},
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("serviceuser: build signer: %w", err)
	}
	if lifetime, err = assertionLifetime(lifetime); err != nil {
		return nil, err
	}
	return &assertionSigner{signer: signer, subject: key.subject(), lifetime: lifetime}, nil
}

// assertionLifetime maps 0 to MaxAssertionLifetime and refuses a lifetime
// outside [minAssertionLifetime, MaxAssertionLifetime]: shorter would not
// outlast the backdating of "iat" on a server whose clock runs ahead,
// longer ZITADEL refuses.
func assertionLifetime(d time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return MaxAssertionLifetime, nil
	case d < minAssertionLifetime || d > MaxAssertionLifetime:
		return 0, fmt.Errorf("%s is outside [%s, %s] (zero means %s)", d, minAssertionLifetime, MaxAssertionLifetime, MaxAssertionLifetime)
	}
	return d, nil
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
	case *externalSigner:
		return jose.RS256, cryptosigner.Opaque(s), nil
	default:
		return "", nil, keyFileError("key", "no private key (use ParseKeyFile, ReadKeyFile or NewSignerKey)", nil)
	}
}

// sign returns a compact JWT for the audience, issued at now (backdated) and
// expiring at most MaxAssertionLifetime after its "iat".
func (a *assertionSigner) sign(audience string, now time.Time) (string, error) {
	iat := now.Add(-iatBackdate)
	claims := assertionClaims{
		Issuer:    a.subject,
		Subject:   a.subject,
		Audience:  []string{audience},
		IssuedAt:  iat.Unix(),
		ExpiresAt: iat.Add(a.lifetime).Unix(),
		ID:        newJTI(),
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("serviceuser: encode assertion: %w", err)
	}
	jws, err := a.signer.Sign(payload)
	if err != nil {
		return "", signError(err)
	}
	return jws.CompactSerialize()
}

// signError wraps a signing failure; a *SignerError already says what failed.
func signError(err error) error {
	var se *SignerError
	if errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("serviceuser: sign assertion: %w", err)
}

func newJTI() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// SignAssertion signs one RFC 7523 assertion with key for audience (the
// issuer, such as "https://my-instance.zitadel.cloud"), valid for lifetime:
// MaxAssertionLifetime when zero, and at least two minutes; another is a
// *ConfigError. It is for tools that hand the assertion to something else;
// a TokenSource signs its own.
func SignAssertion(key *KeyFile, audience string, lifetime time.Duration) (string, error) {
	if key == nil {
		return "", &ConfigError{Field: "key", Problem: "missing"}
	}
	if _, err := assertionLifetime(lifetime); err != nil {
		return "", &ConfigError{Field: "lifetime", Problem: err.Error()}
	}
	aud, err := urlpolicy.NormalizeIssuer(audience, false)
	if err != nil {
		return "", &ConfigError{Field: "audience", Problem: err.Error()}
	}
	signer, err := newAssertionSigner(key, lifetime)
	if err != nil {
		return "", err
	}
	return signer.sign(aud, time.Now())
}
