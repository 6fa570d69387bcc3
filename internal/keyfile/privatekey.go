package keyfile

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// minRSABits is the smallest RSA key accepted; ZITADEL generates 2048-bit keys.
const minRSABits = 2048

// parsePrivateKey parses the PEM key of a key file: RSA of at least
// minRSABits (PKCS #1 or PKCS #8) or EC P-256 (SEC 1 or PKCS #8).
func parsePrivateKey(s string) (crypto.Signer, *Error) {
	if strings.TrimSpace(s) == "" {
		return nil, newError("key", "missing", nil)
	}
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return nil, newError("key", "not a PEM block", nil)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, newError("key", "trailing data after the PEM block", nil)
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
		return nil, newError("key", "encrypted PEM is not supported; decrypt the key first", nil)
	}
	key, e := parseDER(block)
	if e != nil {
		return nil, e
	}
	return checkKeyKind(key)
}

func parseDER(block *pem.Block) (any, *Error) {
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, newError("key", fmt.Sprintf("PEM block type %q is not a private key", redact.Truncate(block.Type, 40)), nil)
	}
	if err != nil {
		// x509's messages describe the structure, never the key's bytes.
		return nil, newError("key", block.Type+" does not parse", err)
	}
	return key, nil
}

func checkKeyKind(key any) (crypto.Signer, *Error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if e := checkRSABits(k.N.BitLen()); e != nil {
			return nil, e
		}
		return k, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, newError("key", fmt.Sprintf("EC key on %s: ZITADEL accepts only ES256 (P-256)", k.Curve.Params().Name), nil)
		}
		return k, nil
	case ed25519.PrivateKey:
		return nil, newError("key", "Ed25519 key: ZITADEL accepts only RS256, PS256 and ES256", nil)
	default:
		return nil, newError("key", fmt.Sprintf("unsupported key type %T", key), nil)
	}
}

// checkRSABits refuses an RSA key shorter than ZITADEL's.
func checkRSABits(bits int) *Error {
	if bits < minRSABits {
		return newError("key", fmt.Sprintf("RSA key has %d bits; at least %d are required", bits, minRSABits), nil)
	}
	return nil
}
