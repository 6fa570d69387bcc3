package serviceusertest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// KeyKind selects the kind of private key minted for a service user.
type KeyKind int

const (
	// KeyRSA is an RSA-2048 key in PKCS#1 PEM ("RSA PRIVATE KEY"), what
	// ZITADEL generates.
	KeyRSA KeyKind = iota
	// KeyRSAPKCS8 is an RSA-2048 key in PKCS#8 PEM ("PRIVATE KEY"), what a
	// key converted with OpenSSL 3 looks like.
	KeyRSAPKCS8
	// KeyEC is a P-256 ECDSA key in PKCS#8 PEM ("PRIVATE KEY"). ZITADEL
	// cannot make or store such keys: only a server started WithECKeys
	// mints them.
	KeyEC
)

// String returns the kind's name.
func (k KeyKind) String() string {
	switch k {
	case KeyRSA:
		return "KeyRSA"
	case KeyRSAPKCS8:
		return "KeyRSAPKCS8"
	case KeyEC:
		return "KeyEC"
	}
	return fmt.Sprintf("KeyKind(%d)", int(k))
}

// NoExpiry is the expirationDate ZITADEL writes for a key that never expires.
var NoExpiry = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// keyFile is the layout of a service user key file, fields in ZITADEL's order.
type keyFile struct {
	Type           string `json:"type"`
	KeyID          string `json:"keyId"`
	Key            string `json:"key"`
	ExpirationDate string `json:"expirationDate"`
	UserID         string `json:"userId"`
}

// publicKey is a registered key as the server sees it.
type publicKey struct {
	userID string
	key    crypto.PublicKey
	life   lifespan
	expiry time.Time // zero: never expires
}

// Reasons a key lookup fails; they appear wrapped in ErrSignatureInvalid.
var (
	// ErrKeyNotFound: no key with the assertion's kid belongs to its iss.
	ErrKeyNotFound = errors.New("key not found")
	// ErrKeyRevoked: the key was revoked with RevokeKey.
	ErrKeyRevoked = errors.New("key revoked")
	// ErrKeyExpired: the key's server-side expiry (SetKeyExpiry) has passed.
	ErrKeyExpired = errors.New("key expired")
	// ErrUserNotActive: the user was deactivated with DeactivateUser.
	ErrUserNotActive = errors.New("Errors.User.NotActive")
)

// NewKey adds a fresh KeyRSA key to an existing user, as ZITADEL's console
// or API does, and returns its key file; the new key's ID is the file's
// "keyId". The user's other keys keep working. Like any new key it is
// accepted only after the projection delay (see SetProjectionDelay). It
// panics if the user is unknown.
func (s *Server) NewKey(userID string) []byte {
	s.mu.Lock()
	s.mustUser("NewKey", userID) // before the slow key generation
	s.mu.Unlock()
	_, _, file := s.addKeyFile(userID, KeyRSA)
	return file
}

// addKeyFile mints a key of the given kind for userID, registers it and
// returns its ID, the private key and its key file.
func (s *Server) addKeyFile(userID string, kind KeyKind) (string, crypto.Signer, []byte) {
	signer, pemBytes := generateKey(kind)
	keyID := s.AddKey(userID, signer.Public())
	return keyID, signer, marshalKeyFile(keyID, userID, pemBytes)
}

// generateKey makes a key of the given kind and its PEM encoding.
func generateKey(kind KeyKind) (crypto.Signer, []byte) {
	switch kind {
	case KeyRSA:
		k := mustRSA()
		return k, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	case KeyRSAPKCS8:
		k := mustRSA()
		return k, pkcs8PEM(k)
	case KeyEC:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k, pkcs8PEM(k)
	}
	panic(fmt.Sprintf("serviceusertest: unknown %v", kind))
}

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func pkcs8PEM(k crypto.Signer) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func marshalKeyFile(keyID, userID string, pemBytes []byte) []byte {
	b, err := json.Marshal(keyFile{
		Type:           "serviceaccount",
		KeyID:          keyID,
		Key:            string(pemBytes),
		ExpirationDate: NoExpiry.Format(time.RFC3339),
		UserID:         userID,
	})
	if err != nil {
		panic(err)
	}
	return b
}

// AddKey registers pub as an extra key of an existing user and returns its
// key ID. ZITADEL stores RSA public keys only: other keys panic unless the
// server was started WithECKeys, and then only RSA and P-256 keys can ever
// verify. It also panics if the user is unknown.
func (s *Server) AddKey(userID string, pub crypto.PublicKey) (keyID string) {
	if _, ok := pub.(*rsa.PublicKey); !ok && !s.ecKeys {
		panic(fmt.Sprintf("serviceusertest: AddKey: ZITADEL stores RSA keys only, not %T; start the server WithECKeys() for others", pub))
	}
	keyID = s.newID()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustUser("AddKey", userID)
	s.keys[keyID] = &publicKey{userID: userID, key: pub, life: lifespan{created: time.Now()}}
	return keyID
}

// RevokeKey deletes a service user key or an application key on the server
// side: later assertions signed with it are rejected (after the projection
// delay, see SetProjectionDelay). Tokens already issued stay valid. It panics
// if the key is unknown.
func (s *Server) RevokeKey(keyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.appKeys[keyID]; ok {
		k.life.markDeleted(time.Now())
		return
	}
	s.mustKey("RevokeKey", keyID).life.markDeleted(time.Now())
}

// SetKeyExpiry sets a key's server-side expiry: once the server clock reaches
// t, assertions signed with it are rejected. The zero time means no expiry.
// The key file already handed out is not changed. It panics if the key is
// unknown.
func (s *Server) SetKeyExpiry(keyID string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustKey("SetKeyExpiry", keyID).expiry = t
}

// mustKey returns a registered key; s.mu must be held.
func (s *Server) mustKey(caller, keyID string) *publicKey {
	k, ok := s.keys[keyID]
	if !ok {
		panic(fmt.Sprintf("serviceusertest: %s: unknown key %q", caller, keyID))
	}
	return k
}

// lookupKey finds the usable key with ID keyID belonging to clientID, like
// ZITADEL's key lookup by (kid, iss).
func (s *Server) lookupKey(keyID, clientID string, now time.Time) (crypto.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[keyID]
	if !ok || k.userID != clientID {
		return nil, fmt.Errorf("%w: kid %q for iss %q", ErrKeyNotFound, keyID, clientID)
	}
	switch k.life.seen(time.Now(), s.delay()) {
	case notYet:
		return nil, fmt.Errorf("%w: kid %q for iss %q: %w", ErrKeyNotFound, keyID, clientID, ErrNotProjected)
	case gone:
		return nil, fmt.Errorf("%w: kid %q", ErrKeyRevoked, keyID)
	}
	switch {
	case !k.expiry.IsZero() && !now.Before(k.expiry):
		return nil, fmt.Errorf("%w: kid %q expired at %s", ErrKeyExpired, keyID, k.expiry.Format(time.RFC3339))
	}
	return k.key, nil
}
