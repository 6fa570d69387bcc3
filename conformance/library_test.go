package conformance

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// keyKind is a kind of service user key the library must handle.
type keyKind struct {
	name string
	make func(t testing.TB) (crypto.Signer, []byte) // private key and its PEM
}

var keyKinds = []keyKind{
	{"RSA-2048 PKCS#1", func(t testing.TB) (crypto.Signer, []byte) {
		k := newRSAKey(t)
		return k, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	}},
	{"RSA-2048 PKCS#8", func(t testing.TB) (crypto.Signer, []byte) {
		k := newRSAKey(t)
		return k, pkcs8PEM(t, k)
	}},
	{"EC P-256 PKCS#8", func(t testing.TB) (crypto.Signer, []byte) {
		k := newECKey(t)
		return k, pkcs8PEM(t, k)
	}},
}

func newRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return k
}

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func pkcs8PEM(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// randomID returns an 18 digit ID like ZITADEL's.
func randomID(t testing.TB) string {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(900_000_000_000_000_000))
	require.NoError(t, err)
	return n.Add(n, big.NewInt(100_000_000_000_000_000)).String()
}

// keyFileJSON writes a service user key file the way ZITADEL does.
func keyFileJSON(t testing.TB, keyID, userID string, pemKey []byte) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]string{
		"type":           serviceuser.KeyTypeServiceAccount,
		"keyId":          keyID,
		"key":            string(pemKey),
		"expirationDate": "9999-12-31T23:59:59Z",
		"userId":         userID,
	})
	require.NoError(t, err)
	return b
}

// tokenServer is what the library is run against: the referee or a
// ProviderReferee.
type tokenServer interface {
	Issuer() string
	UserinfoURL() string
	IssuedTokens() int
}

// libraryServers start a token server and return it with the server that
// holds its keys.
var libraryServers = []struct {
	name  string
	start func(testing.TB) (tokenServer, *serviceusertest.Server)
}{
	{"referee", func(t testing.TB) (tokenServer, *serviceusertest.Server) {
		ref := newReferee(t)
		return ref, ref
	}},
	{"provider", func(t testing.TB) (tokenServer, *serviceusertest.Server) {
		keys := newKeyServer(t)
		return newProviderReferee(t, keys.LookupKey), keys
	}},
}

// TestLibraryGetsTokens runs the library's token source and client against
// ZITADEL's checker, for each key kind ZITADEL verifies, with key files made
// here and with key files minted by serviceusertest.
func TestLibraryGetsTokens(t *testing.T) {
	type keySource struct {
		name string
		file []byte
	}
	var sources []keySource
	for _, kind := range keyKinds {
		_, pemKey := kind.make(t)
		sources = append(sources, keySource{kind.name, keyFileJSON(t, randomID(t), randomID(t), pemKey)})
	}
	fake := serviceusertest.NewServer(serviceusertest.WithECKeys())
	defer fake.Close()
	for _, kind := range []serviceusertest.KeyKind{serviceusertest.KeyRSA, serviceusertest.KeyRSAPKCS8, serviceusertest.KeyEC} {
		sources = append(sources, keySource{"serviceusertest " + kind.String(), fake.NewServiceUserWithKey(kind).KeyFile})
	}

	for _, srv := range libraryServers {
		for _, src := range sources {
			t.Run(srv.name+"/"+src.name, func(t *testing.T) {
				ref, keys := srv.start(t)
				key, err := serviceuser.ParseKeyFile(src.file)
				require.NoError(t, err)
				key = enrolKey(keys, key)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()

				cfg := serviceuser.Config{Key: key, Issuer: ref.Issuer(), Scopes: []string{oidc.ScopeOpenID, scope.ZitadelAPI}}
				ts := cfg.TokenSource(ctx)
				defer ts.Close()
				sent := time.Now()
				tok, err := ts.Token()
				require.NoError(t, err)
				require.NotEmpty(t, tok.AccessToken)
				assert.Equal(t, "Bearer", tok.TokenType)
				assert.WithinDuration(t, sent.Add(serviceusertest.DefaultTokenLifetime), tok.Expiry, 5*time.Second)
				if srv.name == "referee" {
					checkIDToken(t, keys, tok.Extra("id_token"), key.UserID)
				}

				again, err := ts.Token()
				require.NoError(t, err)
				assert.Equal(t, tok.AccessToken, again.AccessToken, "the token must come from the cache")
				assert.Equal(t, 1, ref.IssuedTokens())

				client := cfg.Client(ctx)
				resp, err := client.Get(ref.UserinfoURL())
				require.NoError(t, err)
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, resp.StatusCode, "userinfo: %s", body)
				var info struct {
					Subject string `json:"sub"`
				}
				require.NoError(t, json.Unmarshal(body, &info))
				assert.Equal(t, key.UserID, info.Subject)
			})
		}
	}
}

// checkIDToken verifies the referee's id_token with the key set its
// discovery document names.
func checkIDToken(t *testing.T, ref *serviceusertest.Server, raw any, userID string) {
	t.Helper()
	s, ok := raw.(string)
	require.True(t, ok, "id_token missing")
	jws, err := jose.ParseSignedCompact(s, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	var discovery oidc.DiscoveryConfiguration
	getJSON(t, ref.Client(), ref.Issuer()+oidc.DiscoveryEndpoint, &discovery)
	var keySet jose.JSONWebKeySet
	getJSON(t, ref.Client(), discovery.JwksURI, &keySet)
	payload, err := jws.Verify(&keySet)
	require.NoError(t, err)
	var claims oidc.IDTokenClaims
	require.NoError(t, json.Unmarshal(payload, &claims))
	assert.Equal(t, userID, claims.Subject)
}

// TestLibraryRefusedByChecker shows how the library reports an assertion the
// checker refuses (here: a key the server does not know), through ZITADEL's
// answer (500 Errors.Internal) and through zitadel/oidc's provider (400
// invalid_grant).
func TestLibraryRefusedByChecker(t *testing.T) {
	_, pemKey := keyKinds[2].make(t)
	key, err := serviceuser.ParseKeyFile(keyFileJSON(t, randomID(t), randomID(t), pemKey))
	require.NoError(t, err)

	for _, tc := range []struct {
		name   string
		start  func(testing.TB) (tokenServer, *serviceusertest.Server)
		status int
		code   string
	}{
		{"referee", libraryServers[0].start, http.StatusInternalServerError, "server_error"},
		{"provider", libraryServers[1].start, http.StatusBadRequest, "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := tc.start(t) // the key is not registered
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ts := serviceuser.Config{Key: key, Issuer: srv.Issuer(), Scopes: []string{oidc.ScopeOpenID}}.TokenSource(ctx)
			defer ts.Close()
			_, err := ts.TokenContext(ctx)
			var te *serviceuser.TokenError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tc.status, te.StatusCode)
			assert.Equal(t, tc.code, te.Code)
			assert.NotEmpty(t, te.Hint)
			assert.Zero(t, srv.IssuedTokens())
			if ref, ok := srv.(*serviceusertest.Server); ok {
				rejections := ref.Rejections()
				require.NotEmpty(t, rejections)
				assert.ErrorIs(t, rejections[0], oidc.ErrSignatureInvalid)
				assert.ErrorIs(t, rejections[0], serviceusertest.ErrKeyNotFound)
			}
		})
	}
}

// TestLibraryUnderClockDrift runs the library against serviceusertest with
// its clock shifted: the referee's checker reads the real clock and cannot be
// shifted, but the decision table (TestDecisionTable) shows that
// serviceusertest decides every assertion as the checker does, including the
// library-shaped ones signed by a drifting client.
func TestLibraryUnderClockDrift(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offset time.Duration // server clock minus client clock
		ok     bool
		reason error
	}{
		{"server 30 s behind", -30 * time.Second, true, nil},
		{"server 30 s ahead", 30 * time.Second, true, nil},
		{"server 30 min ahead", 30 * time.Minute, true, nil},
		{"server 90 s behind", -90 * time.Second, false, serviceusertest.ErrIatInFuture},
		{"server 2 h ahead", 2 * time.Hour, false, serviceusertest.ErrExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := serviceusertest.NewServer()
			defer fake.Close()
			fake.SetClockOffset(tc.offset)
			key, err := serviceuser.ParseKeyFile(fake.NewServiceUser().KeyFile)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ts := serviceuser.Config{Key: key, Issuer: fake.Issuer()}.TokenSource(ctx)
			defer ts.Close()
			_, err = ts.TokenContext(ctx)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			rejections := fake.Rejections()
			require.NotEmpty(t, rejections)
			assert.True(t, errors.Is(rejections[0], tc.reason), "rejected for %v", rejections[0])
		})
	}
}

// getJSON decodes the JSON answer to a GET of url into v.
func getJSON(t *testing.T, c *http.Client, url string, v any) {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}
