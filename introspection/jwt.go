package introspection

import (
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/jwks"
)

// JWTLeeway is how far the clocks of ZITADEL and of the API may disagree
// when a JWT access token's exp, nbf and iat are checked: a token is
// accepted until JWTLeeway after its exp, and from JWTLeeway before its nbf
// and iat. ZITADEL sets nbf and iat to the moment of issue, so an API whose
// clock is behind ZITADEL's would otherwise refuse fresh tokens; a minute
// covers the drift of machines that keep time loosely (the JWT libraries'
// usual default) and is nothing next to a token lifetime of 12 hours.
const JWTLeeway = time.Minute

// jwtCheck verifies JWT access tokens: RS256 signatures by a key of
// ZITADEL's key set, chosen by kid, then iss, aud, exp, nbf and iat, and
// that the token is an access token, not an ID token (see accessToken).
type jwtCheck struct {
	keys    *jwks.Set
	issuer  string // exactly the token's iss
	project string // the token's aud must hold it
}

// errRefused is a JWT that is not a valid access token for this API; the
// caller reports it inactive, as introspection would.
var errRefused = errors.New("introspection: JWT refused")

// verify checks token, a compact JWS, and returns its Result; errRefused
// when it is not valid for this API, another error when the key set cannot
// be had. The parsing is by hand rather than go-jose's: it costs a fraction
// of the RSA verification, which alone is most of the time.
func (j *jwtCheck) verify(ctx context.Context, token string, now time.Time) (*Result, error) {
	header, rest, ok := strings.Cut(token, ".")
	payload, sigPart, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.IndexByte(sigPart, '.') >= 0 {
		return nil, errRefused
	}
	// Only RS256, what ZITADEL signs with: never "none", HMAC (whose secret a
	// verifier with a public key would take from the key), ECDSA or PSS; and
	// no header extension this check would not honour.
	h, crit, ok := readHeader(header, false)
	if !ok || h.Alg != "RS256" || crit {
		return nil, errRefused
	}
	key, err := j.keys.Key(ctx, h.Kid)
	if err != nil {
		var ke *jwks.KeyError
		if errors.Is(err, jwks.ErrUnknownKey) || errors.As(err, &ke) {
			return nil, errRefused
		}
		return nil, err
	}
	if base64.RawURLEncoding.DecodedLen(len(sigPart)) != key.Size() {
		return nil, errRefused
	}
	var room [maxInlineSignature]byte
	sig, err := base64.RawURLEncoding.AppendDecode(room[:0], []byte(sigPart))
	if err != nil {
		return nil, errRefused
	}
	digest := sumString(token[:len(header)+1+len(payload)])
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig) != nil {
		return nil, errRefused
	}
	return j.claims(payload, now)
}

// claims reads the verified payload and checks iss, aud, exp, nbf and iat.
func (j *jwtCheck) claims(payload string, now time.Time) (*Result, error) {
	var room [maxInlinePayload]byte
	raw, err := base64.RawURLEncoding.AppendDecode(room[:0], []byte(payload))
	if err != nil {
		return nil, errRefused
	}
	r, active, err := decodeClaims(raw, j.project)
	if err != nil || active {
		return nil, errRefused // no access token has "active"; a Result would read it
	}
	switch {
	case r.Issuer != j.issuer,
		!slices.Contains(r.audience, j.project),
		!accessToken(r),
		r.ExpiresAt.IsZero() || !now.Before(r.ExpiresAt.Add(JWTLeeway)),
		// ZITADEL's JWT-profile ID tokens expire when issued: none passes
		// for an access token within the leeway.
		!r.IssuedAt.IsZero() && !r.ExpiresAt.After(r.IssuedAt),
		r.NotBefore.After(now.Add(JWTLeeway)),
		r.IssuedAt.After(now.Add(JWTLeeway)):
		return nil, errRefused
	}
	r.Local = true
	return r, nil
}
