package serviceuser

import (
	"crypto"
	"testing"
	"time"
)

// BenchmarkAssertionSign compares signing with a key in memory and with the
// same key behind an opaque crypto.Signer (which also verifies each signature).
func BenchmarkAssertionSign(b *testing.B) {
	signerKey, err := NewSignerKey(struct{ crypto.Signer }{testRSAKey()}, KeyFile{KeyID: "kid-1", UserID: "user-1"})
	if err != nil {
		b.Fatal(err)
	}
	for name, key := range map[string]*KeyFile{"key file": testKeyFile(b), "signer key": signerKey} {
		b.Run(name, func(b *testing.B) {
			signer, err := newAssertionSigner(key, 0)
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			for b.Loop() {
				if _, err := signer.sign("https://zitadel.example.com", now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
