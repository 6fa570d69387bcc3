package introspection

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPlausibleBounds: the edges of the documented token shapes.
func TestPlausibleBounds(t *testing.T) {
	header := func(h string) string { return base64.RawURLEncoding.EncodeToString([]byte(h)) }
	for token, want := range map[string]bool{
		strings.Repeat("a", 39):                                       false,
		strings.Repeat("a", 40):                                       true,
		strings.Repeat("a", 86):                                       true, // ZITADEL before v4
		strings.Repeat("a", 104):                                      true, // ZITADEL v4.13.1
		strings.Repeat("a", 512):                                      true,
		strings.Repeat("a", 513):                                      false,
		strings.Repeat("aZ9-_~+/", 8) + "==":                          true, // b64token, padded
		strings.Repeat("=", 50):                                       false,
		header(`{"alg":"RS256","kid":"k","typ":"JWT"}`) + ".e30.c2ln": true,
		header(`{"alg":"ES256"}`) + ".e30.c2ln":                       true,
		header(`{"alg":"EdDSA"}`) + ".e30.c2ln":                       true,
		header(`{"alg":"rs256"}`) + ".e30.c2ln":                       false,
		header(`{"typ":"JWT"}`) + ".e30.c2ln":                         false,
		header(`null`) + ".e30.c2ln":                                  false,
		header(`{"alg":"RS256"}`) + "=.e30.c2ln":                      false,
		".e30.c2ln":                                                   false,
	} {
		assert.Equal(t, want, plausible(token), "%q", token)
	}
}

// TestBase64URLBytes: the bytes counted as base64url are the ones
// encoding/base64 decodes, no more, no fewer.
func TestBase64URLBytes(t *testing.T) {
	for c := range 256 {
		// Two characters, one byte: the decoder's skipped '\r' and '\n' leave
		// one, which is an error.
		_, err := base64.RawURLEncoding.DecodeString(string([]byte{byte(c), 'A'}))
		assert.Equal(t, err == nil, isBase64URLByte(byte(c)), "%q", c)
	}
}
