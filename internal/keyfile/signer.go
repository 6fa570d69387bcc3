package keyfile

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"io"
	"math/big"
	"regexp"

	"github.com/go-serviceuser/serviceuser/internal/contain"
	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// SignerError is a failure of an external signer: the fields of
// serviceuser.SignerError, in its order, so that a *SignerError converts to
// a *serviceuser.SignerError. Its text is the exported type's.
type SignerError struct {
	Problem string
	Err     error
}

// Error describes the failure on one line; the signer's error text is kept
// with anything shaped like a bearer token or a JWT removed.
func (e *SignerError) Error() string {
	msg := "serviceuser: key signer " + e.Problem
	if e.Err != nil {
		msg += ": " + signerErrorText(e.Err)
	}
	return msg
}

// Unwrap returns the signer's own error.
func (e *SignerError) Unwrap() error { return e.Err }

// maxSignerErrorText bounds the signer's error text kept in Error.
const maxSignerErrorText = 300

// bearerPattern matches a credential a KMS client may repeat in its errors.
var bearerPattern = regexp.MustCompile(`(?i)(bearer\s+)[^\s"',;)]+`)

// signerErrorText is the signer's error as one bounded line without
// credentials: a KMS client's error may quote its request.
func signerErrorText(err error) string {
	s := bearerPattern.ReplaceAllString(redact.String(err.Error()), "${1}"+redact.Marker)
	return redact.Line(s, maxSignerErrorText)
}

// ExternalSigner guards a crypto.Signer the library does not control, such
// as a KMS client: its public key is read once, and its failures, panics and
// wrong signatures become a *SignerError instead of a crash or a request
// ZITADEL refuses.
type ExternalSigner struct {
	signer crypto.Signer
	public *rsa.PublicKey
}

// NewExternalSigner checks signer's public key, which must be RSA of
// ZITADEL's size; problems are reported for the field "key".
func NewExternalSigner(signer crypto.Signer) (*ExternalSigner, *Error) {
	if signer == nil {
		return nil, newError("key", "missing (no signer given)", nil)
	}
	pub, e := signerPublicKey(signer)
	if e != nil {
		return nil, e
	}
	return &ExternalSigner{signer: signer, public: pub}, nil
}

// signerPublicKey returns a copy of signer's public key, which must be RSA
// of ZITADEL's size; a Public method that panics gives an error.
func signerPublicKey(signer crypto.Signer) (pub *rsa.PublicKey, e *Error) {
	defer func() {
		if v := recover(); v != nil {
			pub, e = nil, newError("key", "the signer's Public method panicked"+panicText(v), nil)
		}
	}()
	switch k := signer.Public().(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil || k.N.Sign() <= 0 || k.E < 2 {
			return nil, newError("key", "the signer's RSA public key has no valid modulus or exponent", nil)
		}
		if e := checkRSABits(k.N.BitLen()); e != nil {
			return nil, e
		}
		return &rsa.PublicKey{N: new(big.Int).Set(k.N), E: k.E}, nil
	case nil:
		return nil, newError("key", "the signer has no public key", nil)
	case *ecdsa.PublicKey:
		return nil, newError("key", "EC signer: ZITADEL verifies only RSA keys registered for users", nil)
	case ed25519.PublicKey:
		return nil, newError("key", "Ed25519 signer: ZITADEL verifies only RSA keys registered for users", nil)
	default:
		return nil, newError("key", fmt.Sprintf("the signer's public key is a %T; ZITADEL verifies only RSA keys (*rsa.PublicKey)", k), nil)
	}
}

// Public returns the public key read when the signer was checked.
func (s *ExternalSigner) Public() crypto.PublicKey { return s.public }

// Sign signs with the external signer and checks the signature against the
// public key, so that a signer using another key than the one registered
// is reported here rather than as ZITADEL's uninformative 500. Its errors
// are *SignerError values.
func (s *ExternalSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) (sig []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			sig, err = nil, &SignerError{Problem: "panicked" + panicText(v)}
		}
	}()
	sig, err = s.signer.Sign(rand, digest, opts)
	if err != nil {
		return nil, &SignerError{Problem: "failed", Err: err}
	}
	if err := s.verify(digest, sig, opts); err != nil {
		return nil, &SignerError{Problem: "returned a signature that its public key does not verify"}
	}
	return sig, nil
}

func (s *ExternalSigner) verify(digest, sig []byte, opts crypto.SignerOpts) error {
	if pss, ok := opts.(*rsa.PSSOptions); ok {
		return rsa.VerifyPSS(s.public, pss.Hash, digest, sig, pss)
	}
	return rsa.VerifyPKCS1v15(s.public, opts.HashFunc(), digest, sig)
}

// panicText describes a recovered panic. A value the signer chose may hold
// anything, so only its type is shown; the runtime's own errors are shown.
func panicText(v any) string {
	if text, ok := contain.RuntimeText(v); ok {
		return ": " + text
	}
	return fmt.Sprintf(" with a value of type %T", v)
}
