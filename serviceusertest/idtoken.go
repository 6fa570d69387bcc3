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

// idTokenSigner holds the instance's signing key, made on first use.
type idTokenSigner struct {
	once   sync.Once
	key    *rsa.PrivateKey
	keyID  string
	signer jose.Signer
}

// signingKey is the RSA key behind every server's ID tokens, made once per
// process: making an RSA key takes long (seconds under the race detector),
// and each server names it with its own key ID.
var signingKey = sync.OnceValue(mustRSA)

// idSigner returns the signer and its key, making them on first use.
func (s *Server) idSigner() *idTokenSigner {
	g := &s.signer
	g.once.Do(func() {
		g.key, g.keyID = signingKey(), s.newID()
		opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", g.keyID)
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: g.key}, opts)
		if err != nil {
			panic(fmt.Sprintf("serviceusertest: %v", err))
		}
		g.signer = signer
	})
	return g
}

// idToken signs the ID token that comes with the access token t: ZITADEL's
// claims for machine users, with the userinfo claims the scopes allow.
func (s *Server) idToken(t *issuedToken, accessToken string) string {
	s.mu.Lock()
	c := s.userClaims(t)
	s.mu.Unlock()
	c["iss"] = s.Issuer()
	c["aud"] = append([]string{t.clientID}, t.audience...)
	c["exp"] = t.expiry.Unix()
	c["iat"] = t.issuedAt.Unix()
	c["auth_time"] = t.issuedAt.Unix()
	c["azp"] = t.clientID
	c["client_id"] = t.clientID
	c["at_hash"] = leftHalfHash(accessToken)
	return s.sign(c)
}

// sign returns c as a JWT signed RS256 with the instance's signing key.
func (s *Server) sign(c claims) string {
	payload, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("serviceusertest: %v", err))
	}
	jws, err := s.idSigner().signer.Sign(payload)
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

// serveKeys serves the key that signs ID tokens.
func (s *Server) serveKeys(w http.ResponseWriter, _ *http.Request) {
	g := s.idSigner()
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &g.key.PublicKey, KeyID: g.keyID, Algorithm: string(jose.RS256), Use: "sig"},
	}})
}
