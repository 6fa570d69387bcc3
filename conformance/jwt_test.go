package conformance

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

const jwtProject = "289331442540658691"

var jwtKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var out [2]*rsa.PrivateKey
	for i := range out {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		out[i] = k
	}
	return out
})

// keyIssuer is an issuer with discovery and a key set holding jwtKeys()[0]
// as "k1": tokens with any claims can be made for it.
func keyIssuer(t *testing.T) string {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "token_endpoint": srv.URL + "/oauth/v2/token", "jwks_uri": srv.URL + "/oauth/v2/keys"})
	})
	mux.HandleFunc("/oauth/v2/keys", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300, must-revalidate")
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &jwtKeys()[0].PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	return srv.URL
}

// signed is claims signed RS256 by key, naming kid.
func signed(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	return signJWT(t, jose.RS256, key, kid, claims)
}

// unsigned is header.claims with the signature sign makes of them.
func unsigned(header, claims map[string]any, sign func(string) []byte) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	return in + "." + base64.RawURLEncoding.EncodeToString(sign(in))
}

// verifiers run zitadel/oidc's access-token verifier and the library's
// ModeJWT on a token of issuer; each reports whether it accepts it.
func verifiers(t *testing.T, issuer, project string) (oidcAccepts, libAccepts func(string) bool) {
	v := op.NewAccessTokenVerifier(issuer, rp.NewRemoteKeySet(http.DefaultClient, issuer+"/oauth/v2/keys"))
	in, err := introspection.Config{Mode: introspection.ModeJWT, Issuer: issuer, ProjectID: project}.NewIntrospector(context.Background())
	require.NoError(t, err)
	return func(tok string) bool {
			_, err := op.VerifyAccessToken[*oidc.AccessTokenClaims](context.Background(), tok, v)
			return err == nil
		}, func(tok string) bool {
			r, err := in.Introspect(context.Background(), tok)
			require.NoError(t, err)
			return r.Active
		}
}

// Every JWT access token zitadel/oidc's verifier refuses, the library
// refuses too; it also refuses some that verifier lets through, as it
// checks aud, nbf and iat, which zitadel/oidc leaves to the caller.
func TestJWTAccessTokensAgainstZitadelOIDC(t *testing.T) {
	issuer := keyIssuer(t)
	oidcOK, libOK := verifiers(t, issuer, jwtProject)
	now := time.Now()
	claims := func(extra map[string]any) map[string]any {
		c := map[string]any{"iss": issuer, "sub": "u1", "aud": []string{jwtProject}, "exp": now.Add(time.Hour).Unix(),
			"iat": now.Unix(), "nbf": now.Unix(), "client_id": "svc", "jti": "j1"}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	k1 := jwtKeys()[0]
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: mustBytes(x509.MarshalPKIXPublicKey(&k1.PublicKey))})
	for _, row := range []struct {
		name          string
		token         string
		oidcOK, libOK bool
	}{
		{"valid", signed(t, k1, "k1", claims(nil)), true, true},
		{"wrong aud", signed(t, k1, "k1", claims(map[string]any{"aud": []string{"other"}})), true, false},
		{"expired", signed(t, k1, "k1", claims(map[string]any{"exp": now.Add(-time.Hour).Unix(), "iat": now.Add(-2 * time.Hour).Unix()})), false, false},
		{"signed by another key", signed(t, jwtKeys()[1], "k1", claims(nil)), false, false},
		{"alg none", unsigned(map[string]any{"alg": "none", "kid": "k1"}, claims(nil), func(string) []byte { return nil }), false, false},
		{"HS256 with the public key as secret", unsigned(map[string]any{"alg": "HS256", "kid": "k1"}, claims(nil), func(in string) []byte {
			m := hmac.New(sha256.New, pubPEM)
			m.Write([]byte(in))
			return m.Sum(nil)
		}), false, false},
		{"wrong iss", signed(t, k1, "k1", claims(map[string]any{"iss": issuer + "/"})), false, false},
		{"nbf in the future", signed(t, k1, "k1", claims(map[string]any{"nbf": now.Add(time.Hour).Unix()})), true, false},
	} {
		o, l := oidcOK(row.token), libOK(row.token)
		assert.Equal(t, row.oidcOK, o, "zitadel/oidc: %s", row.name)
		assert.Equal(t, row.libOK, l, "library: %s", row.name)
		assert.False(t, l && !o, "the library accepts what zitadel/oidc refuses: %s", row.name)
	}
}

// JWT access tokens of the fake are accepted by zitadel/oidc's verifier
// and by the library; one without the project in its audience only by the
// former, and one of a key rotated out of the set by neither.
func TestFakeJWTAccessTokensAgainstZitadelOIDC(t *testing.T) {
	z := serviceusertest.NewServer()
	t.Cleanup(z.Close)
	app, user := z.NewApplication(), z.NewServiceUser()
	z.SetJWTAccessTokens(user.UserID, true)
	token := func(scopes ...string) string {
		key, err := serviceuser.ParseKeyFile(user.KeyFile)
		require.NoError(t, err)
		tok, err := serviceuser.Config{Key: key, Issuer: z.Issuer(), Scopes: append([]string{"openid"}, scopes...)}.Token(context.Background())
		require.NoError(t, err)
		return tok.AccessToken
	}
	withAud, withoutAud := token(app.AudienceScope()), token()
	oidcOK, libOK := verifiers(t, z.Issuer(), app.ProjectID)
	assert.True(t, oidcOK(withAud))
	assert.True(t, libOK(withAud))
	assert.True(t, oidcOK(withoutAud))
	assert.False(t, libOK(withoutAud))

	z.RotateSigningKey()
	z.RotateSigningKey() // the key that signed them has left the set
	oidcOK, libOK = verifiers(t, z.Issuer(), app.ProjectID)
	assert.False(t, oidcOK(withAud))
	assert.False(t, libOK(withAud))
	assert.True(t, libOK(token(app.AudienceScope())), "a token of the new key")
}

func mustBytes(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
