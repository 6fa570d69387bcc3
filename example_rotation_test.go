package serviceuser_test

import (
	"context"
	"fmt"
	"log"
	"sync"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

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
	newFile := zitadel.NewKey(user.UserID)
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
