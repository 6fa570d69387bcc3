package serviceusertest

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/go-jose/go-jose/v4"
)

// keySetCacheControl is what ZITADEL's key set answers carry, and no ETag
// or Last-Modified.
const keySetCacheControl = "max-age=300, must-revalidate"

// signingKeys is the instance's key set: the active key signs ID tokens and
// JWT access tokens, the next one is published ahead of use. generation is
// the active key's index in the key pool, the next key's is one more.
type signingKeys struct {
	generation       int
	activeID, nextID string
}

// keyPool holds the RSA keys behind every server's signing keys, made on
// first use and shared by the servers of the process, each naming them with
// its own key IDs: making an RSA key takes long (a tenth of a second under
// the race detector).
var keyPool struct {
	mu   sync.Mutex
	keys []*rsa.PrivateKey
}

// pooledKey returns key i of the pool, making the missing ones.
func pooledKey(i int) *rsa.PrivateKey {
	keyPool.mu.Lock()
	defer keyPool.mu.Unlock()
	for len(keyPool.keys) <= i {
		keyPool.keys = append(keyPool.keys, mustRSA())
	}
	return keyPool.keys[i]
}

// RotateSigningKey rotates the instance's signing keys. The key set at
// /oauth/v2/keys always holds two RSA keys, the active one and one published
// ahead of use. A rotation makes the key published ahead the active one:
// ID tokens and JWT access tokens issued from then on are signed with it
// and name it in "kid". A new key is published ahead in its place, and the
// key active until then leaves the key set at once: tokens it signed no
// longer verify against a key set fetched afterwards, while a verifier that
// cached the set (for up to max-age=300 seconds) still accepts them.
func (s *Server) RotateSigningKey() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signing.generation++
	s.signing.activeID, s.signing.nextID = s.signing.nextID, s.newIDLocked()
}

// signingKey is one key of the instance's key set.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

// keySet returns the active signing key and the one published ahead.
func (s *Server) keySet() (active, next signingKey) {
	s.mu.Lock()
	k := s.signing
	s.mu.Unlock()
	return signingKey{k.activeID, pooledKey(k.generation)}, signingKey{k.nextID, pooledKey(k.generation + 1)}
}

// idToken signs the ID token that comes with the access token t: ZITADEL's
// claims for machine users, with the userinfo claims the scopes allow.
func (s *Server) idToken(t *issuedToken, accessToken string) string {
	s.mu.Lock()
	c := s.userClaims(t)
	s.mu.Unlock()
	c["iss"] = s.Issuer()
	c["aud"] = append([]string{t.clientID}, t.audience...)
	c["exp"] = t.issuedAt.Unix() // ZITADEL's JWT profile ID tokens expire at issue
	c["iat"] = t.issuedAt.Unix()
	c["auth_time"] = t.issuedAt.Unix()
	c["azp"] = t.clientID
	c["client_id"] = t.clientID
	c["at_hash"] = leftHalfHash(accessToken)
	return s.sign(c)
}

// sign returns c as a JWT signed RS256 with the instance's active signing
// key, with the header {"alg":"RS256","kid":…,"typ":"JWT"}.
func (s *Server) sign(c claims) string {
	active, _ := s.keySet()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", active.id)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: active.key}, opts)
	if err != nil {
		panic(fmt.Sprintf("serviceusertest: %v", err))
	}
	payload, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("serviceusertest: %v", err))
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(fmt.Sprintf("serviceusertest: %v", err))
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		panic(fmt.Sprintf("serviceusertest: %v", err))
	}
	return out
}

// leftHalfHash is the at_hash of an access token for RS256 (OpenID Connect
// Core section 3.1.3.6).
func leftHalfHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// serveKeys serves the key set: the public halves of the active signing key
// and of the one published ahead of use (see RotateSigningKey).
func (s *Server) serveKeys(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.keySetRequests++
	s.mu.Unlock()
	active, next := s.keySet()
	var set jose.JSONWebKeySet
	for _, k := range []signingKey{active, next} {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.key.PublicKey, KeyID: k.id, Algorithm: string(jose.RS256), Use: "sig"})
	}
	w.Header().Set("Cache-Control", keySetCacheControl)
	writeJSON(w, http.StatusOK, set)
}

// KeySetRequests reports how many requests reached the key set
// (/oauth/v2/keys).
func (s *Server) KeySetRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keySetRequests
}
