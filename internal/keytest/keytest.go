// Package keytest makes the keys and key files that tests of the library
// parse: one RSA-2048 and one EC P-256 key per test binary (RSA generation
// is slow), in PEM and in ZITADEL's key file JSON.
package keytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"sync"
)

// RSA is an RSA-2048 key, the same for every call.
var RSA = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// EC is an EC P-256 key, the same for every call.
var EC = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

// PKCS1PEM is RSA in PKCS #1 PEM, as ZITADEL writes it.
func PKCS1PEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(RSA())}))
}

// PKCS8PEM is key in PKCS #8 PEM.
func PKCS8PEM(key any) string {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// JSON writes a service account key file ("kid-1" of "user-1", no expiry)
// around keyPEM, with the fields in extra overriding these (nil deletes a
// field).
func JSON(keyPEM string, extra map[string]any) []byte {
	fields := map[string]any{"type": "serviceaccount", "keyId": "kid-1", "key": keyPEM, "userId": "user-1", "expirationDate": "9999-12-31T23:59:59Z"}
	for k, v := range extra {
		if v == nil {
			delete(fields, k)
		} else {
			fields[k] = v
		}
	}
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err)
	}
	return b
}
