package serviceusertest

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Assertion checker errors. Their wording is that of the checker ZITADEL runs
// (zitadel/oidc), which older servers sent back in error_description.
var (
	// ErrParse: the assertion is not a three-part JWT with a base64url payload.
	ErrParse = errors.New("parsing of request failed")
	// ErrAudience: "aud" does not contain the issuer exactly.
	ErrAudience = errors.New("audience is not valid")
	// ErrExpired: "exp" is missing or not later than now plus one second.
	ErrExpired = errors.New("token has expired")
	// ErrIatMissing: "iat" is missing.
	ErrIatMissing = errors.New("issuedAt of token is missing")
	// ErrIatInFuture: "iat" is later than now plus one second.
	ErrIatInFuture = errors.New("issuedAt of token is in the future")
	// ErrIatTooOld: "iat" is more than one hour in the past.
	ErrIatTooOld = errors.New("issuedAt of token is to old")
	// ErrSubjectInvalid: "iss" and "sub" differ.
	ErrSubjectInvalid = errors.New("delegation not allowed, issuer and sub must be identical")
	// ErrSignatureUnsupportedAlg: "alg" is not RS256, ES256 or PS256.
	ErrSignatureUnsupportedAlg = errors.New("signature algorithm not supported")
	// ErrSignatureMissing: the JWS carries no signature.
	ErrSignatureMissing = errors.New("id_token does not contain a signature")
	// ErrSignatureMultiple: the JWS carries more than one signature.
	ErrSignatureMultiple = errors.New("id_token contains multiple signatures")
	// ErrSignatureInvalid: no usable key, or the signature does not verify.
	ErrSignatureInvalid = errors.New("invalid signature")
	// ErrSignatureInvalidPayload: the signed payload differs from the parsed one.
	ErrSignatureInvalidPayload = errors.New("signature does not match Payload")
)

// The checker's settings in ZITADEL: NewJWTProfileVerifier(storage, issuer,
// time.Hour, time.Second).
const (
	maxAgeIAT   = time.Hour
	clockLeeway = time.Second
)

// acceptedAlgs are the only signature algorithms ZITADEL verifies.
var acceptedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256}

// assertionClaims mirrors oidc.JWTTokenRequest, so decoding accepts and
// refuses exactly the same payloads.
type assertionClaims struct {
	Issuer    string      `json:"iss"`
	Subject   string      `json:"sub"`
	Audience  audience    `json:"aud"`
	IssuedAt  numericTime `json:"iat"`
	ExpiresAt numericTime `json:"exp"`
	JWTID     string      `json:"jti,omitempty"`
}

// UnmarshalJSON also decodes into a map, as the original does to keep custom
// claims: this is what refuses a payload that is not a JSON object.
func (c *assertionClaims) UnmarshalJSON(data []byte) error {
	type plain assertionClaims
	if err := json.Unmarshal(data, (*plain)(c)); err != nil {
		return err
	}
	var private map[string]any
	return json.Unmarshal(data, &private)
}

// audience mirrors oidc.Audience: a string or an array of strings; any other
// JSON type leaves it empty without error.
type audience []string

func (a *audience) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch aud := v.(type) {
	case []any:
		out := make([]string, len(aud))
		for i, e := range aud {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("oidc aud: type %T is not string", e)
			}
			out[i] = s
		}
		*a = out
	case string:
		*a = []string{aud}
	}
	return nil
}

// numericTime mirrors oidc.Time: seconds truncated to an integer, or an
// RFC 3339 string; null or absent is zero.
type numericTime int64

func (t *numericTime) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("oidc.Time: %w", err)
	}
	switch x := v.(type) {
	case float64:
		*t = numericTime(x)
	case string:
		tt, err := time.Parse(time.RFC3339, x)
		if err != nil {
			return fmt.Errorf("oidc.Time: %w", err)
		}
		*t = numericTime(tt.Unix())
	case nil:
		*t = 0
	default:
		return fmt.Errorf("oidc.Time: unable to parse type %T with value %v", x, x)
	}
	return nil
}

func (t numericTime) asTime() time.Time {
	if t == 0 {
		return time.Time{}
	}
	return time.Unix(int64(t), 0)
}

// keyLookup finds the usable key with ID keyID registered for clientID.
type keyLookup func(keyID, clientID string, now time.Time) (crypto.PublicKey, error)

// verifyAssertion checks a JWT profile assertion the way ZITADEL does
// (op.VerifyJWTAssertion), in the same order, with now as the server clock.
// It returns the user ID the token is for.
func (s *Server) verifyAssertion(assertion string, now time.Time) (string, error) {
	return s.verifyAssertionWith(assertion, now, s.lookupKey)
}

// verifyAssertionWith is verifyAssertion with the signing key taken from
// lookup; it returns the assertion's issuer.
func (s *Server) verifyAssertionWith(assertion string, now time.Time, lookup keyLookup) (string, error) {
	claims := new(assertionClaims)
	payload, err := parseToken(assertion, claims)
	if err != nil {
		return "", err
	}
	checks := []func() error{
		func() error { return checkAudience(claims, s.Issuer()) },
		func() error { return checkExpiration(claims, now) },
		func() error { return checkIssuedAt(claims, now) },
		func() error { return checkSubject(claims) },
		func() error { return checkSignature(assertion, payload, claims.Issuer, now, lookup) },
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return "", err
		}
	}
	return claims.Issuer, nil
}

// parseToken decodes the middle segment without looking at the signature.
func parseToken(token string, claims *assertionClaims) ([]byte, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: token contains an invalid number of segments", ErrParse)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: malformed jwt payload: %v", ErrParse, err)
	}
	return payload, json.Unmarshal(payload, claims)
}

func checkAudience(c *assertionClaims, issuer string) error {
	if !slices.Contains(c.Audience, issuer) {
		return fmt.Errorf("%w: Audience must contain client_id %q", ErrAudience, issuer)
	}
	return nil
}

func checkExpiration(c *assertionClaims, now time.Time) error {
	if !now.Add(clockLeeway).Before(c.ExpiresAt.asTime()) {
		return ErrExpired
	}
	return nil
}

// checkIssuedAt rounds like the original: the future bound includes the
// leeway, the age bound does not.
func checkIssuedAt(c *assertionClaims, now time.Time) error {
	issuedAt := c.IssuedAt.asTime()
	if issuedAt.IsZero() {
		return ErrIatMissing
	}
	latest := now.Add(clockLeeway).Round(time.Second)
	if issuedAt.After(latest) {
		return fmt.Errorf("%w: (iat: %v, now with offset: %v)", ErrIatInFuture, issuedAt, latest)
	}
	oldest := now.Add(-maxAgeIAT).Round(time.Second)
	if issuedAt.Before(oldest) {
		return fmt.Errorf("%w: must not be older than %v, but was %v (%v to old)", ErrIatTooOld, oldest, issuedAt, oldest.Sub(issuedAt))
	}
	return nil
}

func checkSubject(c *assertionClaims) error {
	if c.Issuer != c.Subject {
		return ErrSubjectInvalid
	}
	return nil
}

// checkSignature verifies the JWS with the key registered under (kid, iss).
func checkSignature(token string, payload []byte, clientID string, now time.Time, lookup keyLookup) error {
	jws, err := jose.ParseSignedCompact(token, acceptedAlgs)
	if err != nil {
		var unexpected *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &unexpected) || errors.Is(err, jose.ErrUnsupportedAlgorithm) {
			return ErrSignatureUnsupportedAlg
		}
		return ErrParse
	}
	switch len(jws.Signatures) {
	case 0:
		return ErrSignatureMissing
	case 1:
	default:
		return ErrSignatureMultiple
	}
	signed, err := verifySignature(jws, clientID, now, lookup)
	if err != nil {
		return fmt.Errorf("%w (%w)", ErrSignatureInvalid, err)
	}
	if !bytes.Equal(signed, payload) {
		return ErrSignatureInvalidPayload
	}
	return nil
}

func verifySignature(jws *jose.JSONWebSignature, clientID string, now time.Time, lookup keyLookup) ([]byte, error) {
	keyID := jws.Signatures[0].Header.KeyID
	key, err := lookup(keyID, clientID, now)
	if err != nil {
		return nil, fmt.Errorf("error fetching keys: %w", err)
	}
	return jws.Verify(&jose.JSONWebKey{KeyID: keyID, Use: "sig", Key: key})
}
