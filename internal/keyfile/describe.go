package keyfile

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"strconv"

	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// Describe names a key's kind and size, such as "RSA-2048", "EC P-256" or
// "RSA-2048 (external signer)"; "none" for no key.
func Describe(s crypto.Signer) string {
	switch k := s.(type) {
	case *rsa.PrivateKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PrivateKey:
		return "EC " + k.Curve.Params().Name
	case *ExternalSigner:
		return fmt.Sprintf("RSA-%d (external signer)", k.public.N.BitLen())
	default:
		return "none"
	}
}

// PrintableID returns id as is when Parse would accept it, and otherwise a
// quoted, shortened form: a key file built by hand must not print 60 KB or
// forge a log line either.
func PrintableID(id string) string {
	if checkID("", id, false) == nil {
		return id
	}
	return strconv.Quote(redact.Truncate(id, 40))
}
