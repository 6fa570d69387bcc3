package introspection_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/introspection"
)

const jwtProject = "289331442540658691"

// keySetHandler serves discovery with a jwks_uri and a key set holding
// testRSAKey as "k1", a 1024-bit key as "short" and an EC key as "ec".
func keySetHandler(t *testing.T, short *rsa.PrivateKey, ec *ecdsa.PrivateKey) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(discoveryPath, discoveryHandler(map[string]any{"jwks_uri": fakeIssuer + "/oauth/v2/keys"}))
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &testRSAKey().PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"},
		{Key: &short.PublicKey, KeyID: "short", Algorithm: "RS256", Use: "sig"},
		{Key: &ec.PublicKey, KeyID: "ec", Algorithm: "ES256", Use: "sig"},
	}}
	body, err := json.Marshal(set)
	require.NoError(t, err)
	mux.HandleFunc("/oauth/v2/keys", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300, must-revalidate")
		w.Write(body)
	})
	return mux
}

// signJWT signs claims with key and alg, the header naming kid.
func signJWT(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any, extra map[jose.HeaderKey]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid)
	for k, v := range extra {
		opts = opts.WithHeader(k, v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	require.NoError(t, err)
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	jws, err := s.Sign(payload)
	require.NoError(t, err)
	out, err := jws.CompactSerialize()
	require.NoError(t, err)
	return out
}

// handMadeJWT is header.claims with the signature sign makes.
func handMadeJWT(t *testing.T, header, claims map[string]any, sign func(input string) []byte) string {
	h, err := json.Marshal(header)
	require.NoError(t, err)
	c, err := json.Marshal(claims)
	require.NoError(t, err)
	input := b64url(h) + "." + b64url(c)
	return input + "." + b64url(sign(input))
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// goodClaims are those of a JWT access token ZITADEL issues for the project.
func goodClaims(now time.Time) map[string]any {
	return map[string]any{"iss": fakeIssuer, "sub": "user-1", "aud": []string{jwtProject, "client-1"}, "exp": now.Add(time.Hour).Unix(),
		"iat": now.Unix(), "nbf": now.Unix(), "client_id": "svc", "jti": "jti-1"}
}

// with is c with the members in extra (nil deletes one).
func with(c map[string]any, extra map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range c {
		out[k] = v
	}
	for k, v := range extra {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// Every JWT that is not an RS256 token of a key of the set, for this
// issuer and project and valid now (within JWTLeeway), is inactive; none
// costs an introspection request.
func TestJWTRefusals(t *testing.T) {
	// In a bubble: the rows one second inside or outside the leeway must not
	// cross it while the test runs.
	synctest.Test(t, func(t *testing.T) {
		short, err := rsa.GenerateKey(rand.Reader, 1024)
		require.NoError(t, err)
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		p := newInProcess(keySetHandler(t, short, ec))
		in, err := introspection.Config{Mode: introspection.ModeJWT, ProjectID: jwtProject, Issuer: fakeIssuer, HTTPClient: p.client()}.NewIntrospector(context.Background())
		require.NoError(t, err)

		now := time.Now()
		key := testRSAKey()
		good := goodClaims(now)
		pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&key.PublicKey))})
		rsaSign := func(c map[string]any) string { return signJWT(t, jose.RS256, key, "k1", c, nil) }
		leeway := introspection.JWTLeeway
		for _, c := range []struct {
			name   string
			token  string
			active bool
		}{
			{"good", rsaSign(good), true},
			{"aud as a string", rsaSign(with(good, map[string]any{"aud": jwtProject})), true},
			{"expired within the leeway", rsaSign(with(good, map[string]any{"exp": now.Add(-leeway + time.Second).Unix(), "iat": now.Add(-time.Hour).Unix()})), true},
			{"nbf within the leeway", rsaSign(with(good, map[string]any{"nbf": now.Add(leeway - time.Second).Unix()})), true},
			{"expired", rsaSign(with(good, map[string]any{"exp": now.Add(-leeway - time.Second).Unix(), "iat": now.Add(-time.Hour).Unix()})), false},
			{"no exp", rsaSign(with(good, map[string]any{"exp": nil})), false},
			{"nbf in the future", rsaSign(with(good, map[string]any{"nbf": now.Add(leeway + time.Second).Unix()})), false},
			{"iat in the future", rsaSign(with(good, map[string]any{"iat": now.Add(leeway + time.Second).Unix()})), false},
			{"exp at iat, as ZITADEL's ID tokens", rsaSign(with(good, map[string]any{"exp": now.Unix()})), false},
			{"wrong iss", rsaSign(with(good, map[string]any{"iss": fakeIssuer + "/"})), false},
			{"aud without the project", rsaSign(with(good, map[string]any{"aud": []string{"client-1"}})), false},
			{"aud malformed", rsaSign(with(good, map[string]any{"aud": 7})), false},
			{"sub not a string", rsaSign(with(good, map[string]any{"sub": 7})), false},
			{"an introspection answer's active", rsaSign(with(good, map[string]any{"active": true})), false},
			{"unknown kid", signJWT(t, jose.RS256, key, "k2", good, nil), false},
			{"no kid", handMadeJWT(t, map[string]any{"alg": "RS256"}, good, func(in string) []byte { return rsaPKCS1(t, key, in) }), false},
			{"crit header", signJWT(t, jose.RS256, key, "k1", good, map[jose.HeaderKey]any{"crit": []string{"exp"}, "exp": 1}), false},
			{"PS256 by the same key", signJWT(t, jose.PS256, key, "k1", good, nil), false},
			{"RS384 by the same key", signJWT(t, jose.RS384, key, "k1", good, nil), false},
			{"ES256 by a key of the set", signJWT(t, jose.ES256, ec, "ec", good, nil), false},
			{"RS256 naming the EC key", signJWT(t, jose.RS256, key, "ec", good, nil), false},
			{"key under 2048 bits", signJWT(t, jose.RS256, short, "short", good, nil), false},
			{"alg none", handMadeJWT(t, map[string]any{"alg": "none", "kid": "k1"}, good, func(string) []byte { return nil }) + "AA", false},
			{"HS256 with the public key as secret", handMadeJWT(t, map[string]any{"alg": "HS256", "kid": "k1"}, good, func(in string) []byte {
				m := hmac.New(sha256.New, pubPEM)
				m.Write([]byte(in))
				return m.Sum(nil)
			}), false},
			{"signed by another key", signJWT(t, jose.RS256, short, "k1", good, nil), false},
			{"payload changed", tamper(rsaSign(good), with(good, map[string]any{"sub": "admin"})), false},
			{"signature cut", rsaSign(good)[:len(rsaSign(good))-4], false},
			{"four parts", rsaSign(good) + ".e30", false},
		} {
			r, err := in.Introspect(context.Background(), c.token)
			require.NoError(t, err, c.name)
			assert.Equal(t, c.active, r.Active, c.name)
			if !c.active {
				assert.Equal(t, &introspection.Result{}, r, c.name)
			}
		}
		assert.Equal(t, 1, p.count("zitadel.example/oauth/v2/keys"), "the unknown kid came within RefetchInterval of the first fetch")
		assert.Zero(t, p.count("zitadel.example/oauth/v2/introspect"))
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// rsaPKCS1 signs input RS256 with key.
func rsaPKCS1(t *testing.T, key *rsa.PrivateKey, input string) []byte {
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	require.NoError(t, err)
	return sig
}

// tamper replaces the payload of a signed JWT by claims, keeping the signature.
func tamper(jwt string, claims map[string]any) string {
	parts := strings.Split(jwt, ".")
	parts[1] = b64url(must(json.Marshal(claims)))
	return strings.Join(parts, ".")
}
