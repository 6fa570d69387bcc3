package serviceusertest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestZitadelTokenResponse(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	r := grantWithScope(t, s, u, time.Now(), "openid")
	tok := requireIssued(t, r)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Equal(t, []string{"access_token", "expires_in", "id_token", "token_type"}, fields(r.json), "no scope member")
	assert.Len(t, tok, 104, "ZITADEL v4.13.1's opaque access tokens")
	assert.Equal(t, "Bearer", r.json["token_type"])
	assert.Equal(t, float64(43199), r.json["expires_in"])

	claims := verifyJWT(t, s, r.json["id_token"].(string))
	assert.Equal(t, s.Issuer(), claims["iss"])
	assert.Equal(t, u.UserID, claims["sub"])
	assert.Equal(t, []any{u.Username}, claims["aud"])
	assert.Equal(t, leftHalfHash(tok), claims["at_hash"])
	assert.NotContains(t, claims, "name", "name needs the profile scope")

	noOpenID := grantWithScope(t, s, u, time.Now(), "profile")
	requireIssued(t, noOpenID)
	assert.NotContains(t, noOpenID.json, "id_token", "an ID token only with openid")
}

// verifyJWT checks the signature of a JWT the server signed (an ID token or
// a JWT access token) with the key its kid names in the server's published
// key set, and returns its claims.
func verifyJWT(t *testing.T, s *Server, jwt string) map[string]any {
	t.Helper()
	_, set := keySet(t, s)
	keys := set.Key(signedBy(t, jwt))
	require.Len(t, keys, 1, "the key set holds the signing key")
	jws, err := jose.ParseSignedCompact(jwt, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	payload, err := jws.Verify(keys[0].Key)
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	return claims
}
