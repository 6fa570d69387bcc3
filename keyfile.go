package serviceuser

import (
	"crypto"
	"fmt"
	"strings"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/keyfile"
)

// Key file types written by ZITADEL.
const (
	// KeyTypeServiceAccount is the type of a service user (machine user) key.
	KeyTypeServiceAccount = "serviceaccount"
	// KeyTypeApplication is the type of an API or OIDC application key.
	KeyTypeApplication = "application"
)

// KeyFile is a parsed and validated ZITADEL key file, or a key whose private
// half is held by a crypto.Signer such as a KMS (see NewSignerKey).
//
// The private key is never printed: Format (every fmt verb, %#v included)
// and LogValue show the identifiers and the key's kind only. It is held in a
// closure so that reflection-based printers (fmt on unexported fields, spew)
// cannot reach it.
type KeyFile struct {
	// Type is KeyTypeServiceAccount or KeyTypeApplication.
	Type string
	// KeyID is the key's id, sent as the assertion's "kid" header.
	KeyID string
	// UserID is the service user's id (service account keys only).
	UserID string
	// AppID and ClientID identify the application (application keys only).
	AppID, ClientID string
	// ExpirationDate is when ZITADEL stops accepting the key; zero when the
	// file has none (older servers) or it means "never" (9999-12-31).
	ExpirationDate time.Time

	privateKey func() crypto.Signer
}

// ReadKeyFile reads and parses the key file at path. A UTF-8 byte order mark
// is accepted; errors never repeat a value that is not plainly a path (see
// CredentialError).
func ReadKeyFile(path string) (*KeyFile, error) { return readKeyFile(path, "") }

// readKeyFile reads the key file at path, named by the variable env if any.
func readKeyFile(path, env string) (*KeyFile, error) {
	data, err := readCredentialFile(path, keyFileKind, env)
	if err != nil {
		return nil, err
	}
	return ParseKeyFile(data)
}

// KeyFileFromEnv parses the key file named by the environment variable name,
// which holds either the key file's JSON or a path to it. Enclosing quotes
// (kept by docker --env-file), a UTF-8 byte order mark and surrounding white
// space are removed first, and a JSON string holding the key file's JSON is
// decoded. Errors never repeat the variable's value.
func KeyFileFromEnv(name string) (*KeyFile, error) {
	value, err := envValue(name, keyFileKind)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(value, "{") {
		return ParseKeyFile([]byte(value))
	}
	return readKeyFile(value, name)
}

// ParseKeyFile parses a ZITADEL key file (service account or application key).
// It accepts RSA keys of at least 2048 bits in PKCS#1 or PKCS#8 PEM, the
// kind ZITADEL makes and verifies (RS256). It also accepts EC P-256 keys
// (ES256) for other servers that check RFC 7523 assertions: ZITADEL cannot
// make or store EC keys for users. The file must be UTF-8 (a leading byte
// order mark is dropped; UTF-16 is refused). Ids must be at most 200
// characters, without control characters or surrounding white space. Errors
// are *KeyFileError values naming the field at fault.
func ParseKeyFile(data []byte) (*KeyFile, error) {
	k, e := keyfile.Parse(data)
	if e != nil {
		return nil, keyFileErr(e)
	}
	kf := &KeyFile{Type: k.Type, KeyID: k.KeyID, UserID: k.UserID, AppID: k.AppID, ClientID: k.ClientID,
		ExpirationDate: k.ExpirationDate}
	signer := k.Signer
	kf.privateKey = func() crypto.Signer { return signer }
	return kf, nil
}

// CheckExpiry returns an error wrapping ErrKeyExpired if the key has expired
// at now (its ExpirationDate is at or before now), so that no request is
// made with a key ZITADEL would refuse; nil otherwise.
func (kf KeyFile) CheckExpiry(now time.Time) error {
	if !kf.ExpirationDate.IsZero() && !now.Before(kf.ExpirationDate) {
		return fmt.Errorf("%w: key %s expired at %s", ErrKeyExpired, printableID(kf.KeyID), kf.ExpirationDate.UTC().Format(time.RFC3339))
	}
	return nil
}

// PublicKey returns the public half of the key.
func (kf KeyFile) PublicKey() crypto.PublicKey {
	if s := kf.signer(); s != nil {
		return s.Public()
	}
	return nil
}

// signer returns the private key, or nil for a zero KeyFile.
func (kf KeyFile) signer() crypto.Signer {
	if kf.privateKey == nil {
		return nil
	}
	return kf.privateKey()
}

// subject is the identity the key authenticates: the user id for service
// account keys, the client id for application keys.
func (kf KeyFile) subject() string {
	if kf.Type == KeyTypeApplication {
		return kf.ClientID
	}
	return kf.UserID
}

// identity is the key's type and ids, as package keyfile checks them.
func (kf KeyFile) identity() keyfile.Identity {
	return keyfile.Identity{Type: kf.Type, KeyID: kf.KeyID, UserID: kf.UserID, AppID: kf.AppID, ClientID: kf.ClientID}
}

// keyFileErr is the *KeyFileError of e, which has its fields. A nil e is a
// nil error, never a typed nil.
func keyFileErr(e *keyfile.Error) error {
	if e == nil {
		return nil
	}
	return (*KeyFileError)(e)
}

// keyFileError is a *KeyFileError made here rather than by package keyfile.
func keyFileError(field, problem string, err error) error {
	return &KeyFileError{Field: field, Problem: problem, Err: err}
}
