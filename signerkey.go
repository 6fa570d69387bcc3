package serviceuser

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"io"
	"math/big"
	"runtime"
)

// NewSignerKey returns a key whose private key stays in signer, such as a
// key held by a cloud KMS or an HSM: the private key never exists in this
// process. id names the key as a key file would: for a service user's key
// (Type KeyTypeServiceAccount, or empty), KeyID is the id ZITADEL gave the
// public key registered with the service user (ZITADEL lets users add their
// own public keys) and UserID the service user's id; for an API
// application's key (Type KeyTypeApplication), which authenticates an
// introspection.Introspector, KeyID and ClientID. Set ExpirationDate if the
// registered key expires. The key is used like one from ParseKeyFile
// (Config.Key, introspection.Config.Key, SignAssertion).
//
// signer.Public must give an RSA key of at least 2048 bits: ZITADEL verifies
// only RSA keys registered for users. Public is called once, here. Sign is
// called for each assertion (RS256, PKCS #1 v1.5 with SHA-256), possibly
// from several goroutines at once and from a token source's background
// refresh: it should bound its own time, as a KMS client's timeout does.
// When it fails, panics or returns a signature its public key does not
// verify, the token request fails with a *SignerError.
//
// Errors are *KeyFileError values, with the type and ids checked as in
// ParseKeyFile and problems with the signer reported for the field "key".
func NewSignerKey(signer crypto.Signer, id KeyFile) (*KeyFile, error) {
	kf := KeyFile{Type: id.Type, KeyID: id.KeyID, UserID: id.UserID, AppID: id.AppID, ClientID: id.ClientID,
		ExpirationDate: id.ExpirationDate} // never id's private key
	if kf.Type == "" {
		kf.Type = KeyTypeServiceAccount
	}
	if err := kf.checkIdentity(); err != nil {
		return nil, err
	}
	ext, err := newExternalSigner(signer)
	if err != nil {
		return nil, err
	}
	kf.privateKey = func() crypto.Signer { return ext }
	return &kf, nil
}

// externalSigner guards a crypto.Signer this package does not control: its
// public key is read once, and its failures, panics and wrong signatures
// become a *SignerError instead of a crash or a request ZITADEL refuses.
type externalSigner struct {
	signer crypto.Signer
	public *rsa.PublicKey
}

func newExternalSigner(signer crypto.Signer) (*externalSigner, error) {
	if signer == nil {
		return nil, keyFileError("key", "missing (no signer given)", nil)
	}
	pub, err := signerPublicKey(signer)
	if err != nil {
		return nil, err
	}
	return &externalSigner{signer: signer, public: pub}, nil
}

// signerPublicKey returns a copy of signer's public key, which must be RSA
// of ZITADEL's size; a Public method that panics gives an error.
func signerPublicKey(signer crypto.Signer) (pub *rsa.PublicKey, err error) {
	defer func() {
		if v := recover(); v != nil {
			pub, err = nil, keyFileError("key", "the signer's Public method panicked"+panicText(v), nil)
		}
	}()
	switch k := signer.Public().(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil || k.N.Sign() <= 0 || k.E < 2 {
			return nil, keyFileError("key", "the signer's RSA public key has no valid modulus or exponent", nil)
		}
		if err := checkRSABits(k.N.BitLen()); err != nil {
			return nil, err
		}
		return &rsa.PublicKey{N: new(big.Int).Set(k.N), E: k.E}, nil
	case nil:
		return nil, keyFileError("key", "the signer has no public key", nil)
	case *ecdsa.PublicKey:
		return nil, keyFileError("key", "EC signer: ZITADEL verifies only RSA keys registered for users", nil)
	case ed25519.PublicKey:
		return nil, keyFileError("key", "Ed25519 signer: ZITADEL verifies only RSA keys registered for users", nil)
	default:
		return nil, keyFileError("key", fmt.Sprintf("the signer's public key is a %T; ZITADEL verifies only RSA keys (*rsa.PublicKey)", k), nil)
	}
}

// Public returns the public key read when the key was made.
func (s *externalSigner) Public() crypto.PublicKey { return s.public }

// Sign signs with the external signer and checks the signature against the
// public key, so that a signer using another key than the one registered
// is reported here rather than as ZITADEL's uninformative 500.
func (s *externalSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) (sig []byte, err error) {
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

func (s *externalSigner) verify(digest, sig []byte, opts crypto.SignerOpts) error {
	if pss, ok := opts.(*rsa.PSSOptions); ok {
		return rsa.VerifyPSS(s.public, pss.Hash, digest, sig, pss)
	}
	return rsa.VerifyPKCS1v15(s.public, opts.HashFunc(), digest, sig)
}

// panicText describes a recovered panic. A value the signer chose may hold
// anything, so only its type is shown; the runtime's own errors are shown.
func panicText(v any) string {
	if re, ok := v.(runtime.Error); ok {
		return ": " + re.Error()
	}
	return fmt.Sprintf(" with a value of type %T", v)
}
