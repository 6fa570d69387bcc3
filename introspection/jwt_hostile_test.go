package introspection_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/introspection"
)

// Tokens an attacker can send: headers that name keys elsewhere (jku, x5u,
// jwk, x5c) are never followed, algorithms are RS256 exactly, and claims
// of the wrong type or range refuse the token. In ModeJWTOrIntrospect none
// is relayed to ZITADEL: a JWT the key set does not verify may be forged,
// and a flood of them must not become a flood of introspections.
func TestJWTHostileTokens(t *testing.T) {
	in, p := keySetIntrospector(t, introspection.ModeJWTOrIntrospect)
	attacker, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	now := time.Now()
	good := goodClaims(now)
	key := testRSAKey()
	sign := func(c map[string]any) string { return signJWT(t, jose.RS256, key, "k1", c, nil) }
	byHand := func(header map[string]any, c map[string]any) string {
		return handMadeJWT(t, header, c, func(in string) []byte { return rsaPKCS1(t, key, in) })
	}
	elsewhere := map[jose.HeaderKey]any{"jku": "https://evil.example/keys", "x5u": "https://evil.example/cert"}
	cert := base64.StdEncoding.EncodeToString(must(x509.MarshalPKIXPublicKey(&attacker.PublicKey)))
	tok := sign(good)
	for _, c := range []struct {
		name   string
		token  string
		active bool
	}{
		{"good", tok, true},
		{"fractional exp", sign(with(good, map[string]any{"exp": float64(now.Add(time.Hour).Unix()) + 0.5})), true},
		{"jku and x5u ignored on a good token", signJWT(t, jose.RS256, key, "k1", good, elsewhere), true},
		{"jku to the attacker's set", signJWT(t, jose.RS256, attacker, "evil", good, elsewhere), false},
		{"jwk embedding the attacker's key", signJWT(t, jose.RS256, attacker, "k1", good, map[jose.HeaderKey]any{
			"jwk": jose.JSONWebKey{Key: &attacker.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}), false},
		{"x5c with the attacker's key", signJWT(t, jose.RS256, attacker, "k1", good, map[jose.HeaderKey]any{"x5c": []string{cert}}), false},
		{`alg "RS256 "`, byHand(map[string]any{"alg": "RS256 ", "kid": "k1"}, good), false},
		{`alg "rs256"`, byHand(map[string]any{"alg": "rs256", "kid": "k1"}, good), false},
		{"kid with URL characters", byHand(map[string]any{"alg": "RS256", "kid": "../../keys?kid=k1#"}, good), false},
		{"kid of 8 KiB", byHand(map[string]any{"alg": "RS256", "kid": strings.Repeat("k", 8<<10)}, good), false},
		{"kid not a string", byHand(map[string]any{"alg": "RS256", "kid": 1}, good), false},
		{"exp a string", sign(with(good, map[string]any{"exp": "9999999999"})), false},
		{"exp negative", sign(with(good, map[string]any{"exp": -1})), false},
		{"exp past int64 in time.Time", sign(with(good, map[string]any{"exp": int64(1<<63 - 1)})), false},
		{"exp 1e300", sign(with(good, map[string]any{"exp": 1e300})), false},
		{"iat a string", sign(with(good, map[string]any{"iat": "0"})), false},
		{"aud a list of numbers", sign(with(good, map[string]any{"aud": []int{1}})), false},
		{"iss with a trailing slash", sign(with(good, map[string]any{"iss": fakeIssuer + "/"})), false},
		{"five parts (JWE)", tok + ".AA.AA", false},
		{"space inside", strings.Replace(tok, ".", ". ", 1), false},
		{"leading space", " " + tok, false},
		{"padded signature", tok + "==", false},
		{"standard base64 characters", strings.NewReplacer("-", "+", "_", "/").Replace(tok) + "+/", false},
		{"empty signature", tok[:strings.LastIndexByte(tok, '.')+1], false},
	} {
		r, err := in.Introspect(context.Background(), c.token)
		require.NoError(t, err, c.name)
		assert.Equal(t, c.active, r.Active, c.name)
	}
	assert.Zero(t, p.count("evil.example/keys")+p.count("evil.example/cert"), "no header names a URL that is fetched")
	assert.Equal(t, 1, p.count("zitadel.example/oauth/v2/keys"), "unknown kids within RefetchInterval of the first fetch")
	assert.Zero(t, p.count("zitadel.example/oauth/v2/introspect"), "no JWT relayed to introspection")
}
