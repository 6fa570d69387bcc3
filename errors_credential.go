package serviceuser

import (
	"errors"
	"strconv"

	"github.com/go-serviceuser/serviceuser/internal/keyfile"
)

// CredentialError reports a key file or personal access token that could not
// be read from a file or an environment variable. It never contains the value
// it was given: Path is set only when the value is plainly a path.
type CredentialError struct {
	// Kind is what was being read: "key file" or "personal access token".
	Kind string
	// Env is the environment variable the value came from, or "".
	Env string
	// Path is the file's path when it is safe to show, or "".
	Path string
	// Problem says what is wrong, in words.
	Problem string
	// Err is the cause, such as an error matching fs.ErrNotExist; it never
	// carries the value either.
	Err error
}

// Error says what could not be read and why, without the value itself.
func (e *CredentialError) Error() string {
	msg := "serviceuser: read " + e.Kind
	if e.Path != "" {
		msg += " " + strconv.Quote(e.Path)
	}
	msg += ": " + e.Problem
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *CredentialError) Unwrap() error { return e.Err }

// ErrInvalidKeyFile matches (with errors.Is) every *KeyFileError.
var ErrInvalidKeyFile = errors.New("serviceuser: invalid key file")

// ErrKeyExpired reports a key whose expirationDate has passed; ZITADEL
// would refuse every assertion signed with it.
var ErrKeyExpired = errors.New("serviceuser: key expired")

// KeyFileError describes what is wrong with a key file. It never contains key material.
type KeyFileError struct {
	// Field is the JSON field at fault ("key", "keyId", ...), or "" for the file as a whole.
	Field string
	// Problem says what is wrong, in words.
	Problem string
	// Err is the underlying cause, if any.
	Err error
}

// Error names the field at fault and the problem, never key material.
func (e *KeyFileError) Error() string {
	msg := "serviceuser: invalid key file: "
	if e.Field != "" {
		msg += "field " + e.Field + ": "
	}
	msg += e.Problem
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying cause.
func (e *KeyFileError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidKeyFile.
func (e *KeyFileError) Is(target error) bool { return target == ErrInvalidKeyFile }

// SignerError reports that the crypto.Signer of a key made by NewSignerKey
// could not sign an assertion: it returned an
// error (Err), panicked, or returned a signature its public key does not
// verify. A token source retries it with backoff, as a network error.
type SignerError struct {
	// Problem says what went wrong, in words.
	Problem string
	// Err is the signer's own error, when it returned one.
	Err error
}

// Error describes the failure on one line. The signer's error text is
// included with anything shaped like a bearer token or a JWT removed; a
// panic's value is shown only when the runtime made it.
func (e *SignerError) Error() string { return (*keyfile.SignerError)(e).Error() }

// Unwrap returns the signer's own error.
func (e *SignerError) Unwrap() error { return e.Err }

// ErrPATRejected is returned when the server refuses a personal access token
// (HTTP 401): it was revoked, has expired, or belongs to another instance.
var ErrPATRejected = errors.New("serviceuser: personal access token rejected (HTTP 401): it was revoked, expired, or is for another instance; create a new one")

// ErrPATExpired is returned once the configured expiry has passed.
var ErrPATExpired = errors.New("serviceuser: personal access token expired")
