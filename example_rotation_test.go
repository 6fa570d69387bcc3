package serviceuser_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log"
	"sync"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// newServiceUserKey adds a key to user, as the console or the API does, and
// returns its id and key file.
func newServiceUserKey(zitadel *serviceusertest.Server, user *serviceusertest.ServiceUser) (string, []byte) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	keyID := zitadel.AddKey(user.UserID, &priv.PublicKey)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)})
	file, err := json.Marshal(map[string]string{"type": serviceuser.KeyTypeServiceAccount, "keyId": keyID,
		"key": string(keyPEM), "userId": user.UserID, "expirationDate": "9999-12-31T23:59:59Z"})
	if err != nil {
		log.Fatal(err)
	}
	return keyID, file
}

// vaultKey stands for a key held by a secret manager: a KeySource of your own
// that hands out a new key when the manager rotates it, and reports each
// rotation as a RotatingSource, so that token sources hear of it as they do
// of a watched key file.
type vaultKey struct {
	mu      sync.Mutex
	key     *serviceuser.KeyFile
	changes uint64
}

func (v *vaultKey) CurrentKey() (*serviceuser.KeyFile, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.key, nil
}

// Rotation must answer at once: a token source may ask it under its lock.
func (v *vaultKey) Rotation() serviceuser.Rotation {
	v.mu.Lock()
	defer v.mu.Unlock()
	return serviceuser.Rotation{Changes: v.changes, Path: "vault:kv/zitadel/key"}
}

// rotated is called when the secret manager hands out a new key.
func (v *vaultKey) rotated(key *serviceuser.KeyFile) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.key = key
	v.changes++
}

// A key source of your own gets what a watched key file gets by
// implementing RotatingSource: the next token request uses the new key, a
// new key ends a backoff at once, and Hooks.CredentialReloaded hears of it.
func ExampleRotatingSource() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	user := zitadel.NewServiceUser()
	first, err := serviceuser.ParseKeyFile(user.KeyFile)
	if err != nil {
		log.Fatal(err)
	}
	src := &vaultKey{key: first}
	cfg := serviceuser.Config{Key: src, Issuer: zitadel.Issuer()}
	if _, err := cfg.Token(context.Background()); err != nil {
		log.Fatal(err)
	}

	// The secret manager rotates the key; the old one is deleted in ZITADEL.
	_, newFile := newServiceUserKey(zitadel, user)
	next, err := serviceuser.ParseKeyFile(newFile)
	if err != nil {
		log.Fatal(err)
	}
	src.rotated(next)
	zitadel.RevokeKey(user.KeyID)

	_, err = cfg.Token(context.Background())
	fmt.Println("token with the new key:", err == nil)
	fmt.Println("rotations:", src.Rotation().Changes)
	// Output:
	// token with the new key: true
	// rotations: 1
}
