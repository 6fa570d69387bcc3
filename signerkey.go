package serviceuser

import (
	"crypto"

	"github.com/go-serviceuser/serviceuser/internal/keyfile"
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
	if e := kf.identity().Check(); e != nil {
		return nil, keyFileErr(e)
	}
	ext, e := keyfile.NewExternalSigner(signer)
	if e != nil {
		return nil, keyFileErr(e)
	}
	kf.privateKey = func() crypto.Signer { return ext }
	return &kf, nil
}
