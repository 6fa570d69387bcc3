package serviceuser_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
)

// TestSignAssertionAudience: the audience is normalized as an issuer
// (trailing slashes dropped); a plain-http audience is signed for any host,
// since signing sends nothing; what is not an http(s) URL, or holds user
// info, is refused.
func TestSignAssertionAudience(t *testing.T) {
	user, _ := hostileKeys()
	for audience, want := range map[string]string{
		"https://zitadel.example.com/":  "https://zitadel.example.com",
		"http://zitadel.internal:8080/": "http://zitadel.internal:8080",
		"http://localhost:8080":         "http://localhost:8080",
	} {
		jwt, err := serviceuser.SignAssertion(user, audience, 0)
		require.NoError(t, err, audience)
		parts := strings.Split(jwt, ".")
		require.Len(t, parts, 3)
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		require.NoError(t, err)
		var claims struct{ Aud []string }
		require.NoError(t, json.Unmarshal(payload, &claims))
		assert.Equal(t, []string{want}, claims.Aud, audience)
	}
	for _, audience := range []string{"", "zitadel.example.com", "ftp://zitadel.example.com", "https://user:pw@zitadel.example.com"} {
		_, err := serviceuser.SignAssertion(user, audience, 0)
		var ce *serviceuser.ConfigError
		require.ErrorAs(t, err, &ce, "%q", audience)
		assert.Equal(t, "audience", ce.Field)
		assert.NotContains(t, err.Error(), "pw@", "user info is not repeated")
	}
}
