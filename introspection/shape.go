package introspection

import "strings"

// Bounds of the token shapes ZITADEL issues (see plausible). Its opaque
// access tokens and personal access tokens are 86 characters on older
// servers and 104 on v4.13.1; the window leaves room on both sides.
const (
	minOpaqueLen = 40
	maxOpaqueLen = 512
	maxJWTLen    = 16 << 10
)

// jwtAlgs are the JWS algorithms ZITADEL signs access tokens with: RS256 by
// default, and the others its web keys allow (RSA, ECDSA, Ed25519).
var jwtAlgs = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
	"EdDSA": true,
}

// plausible reports whether token has a shape ZITADEL issues, so that one
// that has not is refused without asking ZITADEL, and costs no request:
//
//   - an opaque token (an access token or a personal access token):
//     minOpaqueLen to maxOpaqueLen characters of RFC 6750's b64token
//     without '.' (letters, digits, '-', '_', '~', '+', '/', then any
//     number of '='), or
//   - a JWT access token: at most maxJWTLen characters in three non-empty
//     base64url parts joined by '.', whose first part decodes to a JSON
//     object with an "alg" of jwtAlgs.
func plausible(token string) bool {
	if strings.IndexByte(token, '.') < 0 {
		return len(token) >= minOpaqueLen && len(token) <= maxOpaqueLen && isB64Token(token)
	}
	if len(token) > maxJWTLen {
		return false
	}
	header, rest, _ := strings.Cut(token, ".")
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok || header == "" || payload == "" || sig == "" || !isBase64URL(header) || !isBase64URL(payload) || !isBase64URL(sig) {
		return false // a fourth part's '.' is not base64url
	}
	h, _, ok := readHeader(header, true)
	return ok && jwtAlgs[h.Alg]
}

// isB64Token reports whether s is RFC 6750's b64token without '.'.
func isB64Token(s string) bool {
	s = strings.TrimRight(s, "=")
	if s == "" {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !isBase64URLByte(c) && c != '~' && c != '+' && c != '/' {
			return false
		}
	}
	return true
}

// isBase64URL reports whether s holds only unpadded base64url characters.
func isBase64URL(s string) bool {
	for i := range len(s) {
		if !isBase64URLByte(s[i]) {
			return false
		}
	}
	return true
}

func isBase64URLByte(c byte) bool { return base64URLBytes[c] }

// base64URLBytes marks base64url's 64 characters: one load a byte, rather
// than a chain of comparisons, on the path of every cached token.
var base64URLBytes = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
		t[c] = true
	}
	return t
}()
