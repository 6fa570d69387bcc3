package serviceuser_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"log"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// hsmKey stands for a key in a KMS or an HSM: a crypto.Signer (as cloud KMS
// and PKCS #11 libraries provide) whose private key this program never sees.
type hsmKey struct{ key *rsa.PrivateKey }

func (h hsmKey) Public() crypto.PublicKey { return &h.key.PublicKey }

func (h hsmKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return h.key.Sign(r, digest, opts) // a KMS would sign remotely here
}

func ExampleNewSignerKey() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	inHSM, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	signer := hsmKey{inHSM}

	// Register the signer's public key with the service user (in ZITADEL: the
	// console or the API); ZITADEL answers with the key's id.
	user := zitadel.NewServiceUser()
	keyID := zitadel.AddKey(user.UserID, signer.Public())

	key, err := serviceuser.NewSignerKey(signer, serviceuser.KeyFile{KeyID: keyID, UserID: user.UserID})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key.KeyDescription())

	ts := serviceuser.Config{Key: key, Issuer: zitadel.Issuer()}.TokenSource(context.Background())
	defer ts.Close()
	tok, err := ts.Token()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Type(), tok.Valid())
	// Output:
	// RSA-2048 (external signer)
	// Bearer true
}
