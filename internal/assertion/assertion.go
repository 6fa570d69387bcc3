// Package assertion signs RFC 7523 JWT assertions: the grant of a service
// user's key (section 2.1) and the client authentication of an API
// application's key (section 2.2). It knows keys only as go-jose signing
// keys; package serviceuser maps its KeyFile to one.
package assertion

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// GrantType is RFC 7523 section 2.1's grant type.
const GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// MaxLifetime is the longest assertion lifetime ZITADEL documents.
const MaxLifetime = time.Hour

// Backdate moves "iat" into the past so that a client clock running ahead
// of the server's (ZITADEL allows 1 s) does not produce an assertion "issued
// in the future". 60 s covers a drift of ±30 s with room to spare.
const Backdate = 60 * time.Second

// minLifetime keeps "exp" ahead of a server clock that runs 30 s ahead of
// ours, after the backdating of "iat".
const minLifetime = 2 * time.Minute

// Lifetime maps 0 to MaxLifetime and refuses a lifetime outside
// [2 min, MaxLifetime]: a shorter one would not outlast the backdating of
// "iat" on a server whose clock runs ahead, a longer one ZITADEL refuses.
func Lifetime(d time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return MaxLifetime, nil
	case d < minLifetime || d > MaxLifetime:
		return 0, fmt.Errorf("%s is outside [%s, %s] (zero means %s)", d, minLifetime, MaxLifetime, MaxLifetime)
	}
	return d, nil
}

// Signer signs assertions for one key. The go-jose signer is built once;
// every call signs fresh claims. It is safe for concurrent use.
type Signer struct {
	signer   jose.Signer
	subject  string // iss and sub: the user id, or the client id of an application
	lifetime time.Duration
}

// claims are the claims ZITADEL checks. "aud" is always an array.
type claims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  []string `json:"aud"`
	IssuedAt  int64    `json:"iat"`
	ExpiresAt int64    `json:"exp"`
	ID        string   `json:"jti"`
}

// New returns a signer for key (what go-jose signs with: a private key or
// an opaque signer) with algorithm alg, naming keyID in the "kid" header
// and subject as "iss" and "sub"; lifetime goes through Lifetime.
func New(alg jose.SignatureAlgorithm, key any, keyID, subject string, lifetime time.Duration) (*Signer, error) {
	lifetime, err := Lifetime(lifetime)
	if err != nil {
		return nil, err
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: alg,
		Key:       jose.JSONWebKey{Key: key, KeyID: keyID, Algorithm: string(alg)},
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("serviceuser: build signer: %w", err)
	}
	return &Signer{signer: signer, subject: subject, lifetime: lifetime}, nil
}

// Sign returns a compact JWT for audience, issued at now less Backdate and
// expiring the signer's lifetime after its "iat". Its error is the key's
// own, unwrapped: the caller says what failed.
func (s *Signer) Sign(audience string, now time.Time) (string, error) {
	iat := now.Add(-Backdate)
	payload, err := json.Marshal(claims{
		Issuer:    s.subject,
		Subject:   s.subject,
		Audience:  []string{audience},
		IssuedAt:  iat.Unix(),
		ExpiresAt: iat.Add(s.lifetime).Unix(),
		ID:        newJTI(),
	})
	if err != nil {
		return "", err
	}
	jws, err := s.signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// newJTI is a random id, so that no two assertions are alike.
func newJTI() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
