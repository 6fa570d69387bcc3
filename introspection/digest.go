package introspection

import "crypto/sha256"

// maxInlineDigest is the length of a string sumString hashes from the
// stack; ZITADEL's JWT access tokens are about a kilobyte.
const maxInlineDigest = 4 << 10

// maxInlinePayload is the room on the stack for a JWT's decoded claims;
// ZITADEL's are under a kilobyte.
const maxInlinePayload = 2 << 10

// maxInlineSignature is the room on the stack for a signature: that of an
// RSA key of 4096 bits.
const maxInlineSignature = 512

// sumString is the SHA-256 of s, which sha256.Sum256([]byte(s)) would copy
// to the heap: s is copied to the stack instead, or hashed in pieces of
// that size when longer. An opaque token fits a smaller buffer, which is
// cheaper to clear on the cache-hit path.
func sumString(s string) [sha256.Size]byte {
	if len(s) <= maxOpaqueLen {
		var small [maxOpaqueLen]byte
		return sha256.Sum256(append(small[:0], s...))
	}
	var buf [maxInlineDigest]byte
	if len(s) <= len(buf) {
		return sha256.Sum256(append(buf[:0], s...))
	}
	h := sha256.New()
	for len(s) > 0 {
		n := copy(buf[:], s)
		h.Write(buf[:n])
		s = s[n:]
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}
