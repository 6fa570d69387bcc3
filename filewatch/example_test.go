package filewatch_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/filewatch"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// A key file mounted from a Kubernetes Secret is read again when it
// changes: a half-written file is refused, a new key is taken.
func ExampleNewKeySource() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	user := zitadel.NewServiceUser()
	dir, err := os.MkdirTemp("", "serviceuser-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "key.json") // in Kubernetes, a Secret mounted as a volume
	if err := os.WriteFile(path, user.KeyFile, 0o600); err != nil {
		log.Fatal(err)
	}

	key, err := filewatch.NewKeySource(path)
	if err != nil {
		log.Fatal(err)
	}
	cfg := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Hooks: &hooks.Hooks{
		CredentialReloaded: func(_ context.Context, i hooks.CredentialReloadedInfo) {
			log.Printf("key file reloaded: %v", i.Err)
		},
	}}
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()
	if _, err := ts.Token(); err != nil {
		log.Fatal(err)
	}

	// A half-written file never replaces the key in use.
	if err := os.WriteFile(path, user.KeyFile[:100], 0o600); err != nil {
		log.Fatal(err)
	}
	inUse, _ := key.CurrentKey()
	fmt.Println("old key still in use:", inUse.KeyID == user.KeyID)
	fmt.Println("refused:", key.Rotation().Err != nil)

	// A new key is made, its file renamed into place, and the old key deleted.
	newFile := zitadel.NewKey(user.UserID)
	newKey, err := serviceuser.ParseKeyFile(newFile)
	if err != nil {
		log.Fatal(err)
	}
	newKeyID := newKey.KeyID
	if err := os.WriteFile(path+".new", newFile, 0o600); err != nil {
		log.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		log.Fatal(err)
	}
	zitadel.RevokeKey(user.KeyID)

	// The cached token is still served; the next token request uses the new key.
	_, err = ts.Token()
	fmt.Println("cached token served:", err == nil)
	inUse, _ = key.CurrentKey()
	fmt.Println("new key in use:", inUse.KeyID == newKeyID)
	_, err = cfg.Token(context.Background())
	fmt.Println("new token:", err == nil)
	// Output:
	// old key still in use: true
	// refused: true
	// cached token served: true
	// new key in use: true
	// new token: true
}
