package serviceuser

import (
	"github.com/go-serviceuser/serviceuser/internal/answer"
	"github.com/go-serviceuser/serviceuser/internal/link"
)

// init lends the packages beside this one (introspection) what they share
// with it but users must not call: see package internal/link.
func init() {
	link.ClientAssertionSigner = clientAssertionSigner
	link.TokenError = func(e *answer.Error) error { return tokenError(e) }
	link.DiscoveryError = discoveryError
}

// clientAssertionSigner is link.ClientAssertionSigner: key must be a
// *KeyFile holding its private key.
func clientAssertionSigner(key any) (link.Signer, error) {
	kf, _ := key.(*KeyFile)
	if kf == nil {
		return nil, keyFileError("key", "missing", nil)
	}
	s, err := newAssertionSigner(kf, 0)
	if err != nil {
		return nil, err
	}
	return s.sign, nil
}
