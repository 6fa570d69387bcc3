// Package filewatch supplies credentials from files that are read again
// when they change, so that a key or a secret rotated by replacing a
// mounted file (a Kubernetes Secret update, a new file renamed into place,
// or the file rewritten) is used without a restart:
//
//	key, err := filewatch.NewKeySource("/var/run/secrets/zitadel/key.json")
//	if err != nil {
//		return err // as serviceuser.ReadKeyFile's
//	}
//	cfg := serviceuser.Config{Key: key, Issuer: issuer}
//
// A [KeySource] is a serviceuser.KeySource for serviceuser.Config.Key, a
// [SecretSource] a serviceuser.SecretSource for
// serviceuser.ClientCredentialsConfig.ClientSecret and
// serviceuser.PATConfig.PAT. Both are serviceuser.RotatingSource values, as
// a source of your own (a secret manager, a KMS) may be: a token source
// hears of their rotations, ends its backoff for a new credential and tells
// hooks.Hooks.CredentialReloaded.
//
// The file is looked at (one os.Stat) before every token request, and, at
// most once a second, while the token source is in backoff; it is read only
// when its size, modification time or identity differ (or it was modified
// within two seconds of the last read, a time a same-size rewrite may not
// change), and taken only when its content differs. Only a regular file is
// read, checked once opened: a path that is or becomes a named pipe, a
// directory or a device is refused at once, never waited on. A changed file
// that is not a usable credential never replaces the one in use; the cached
// token is served throughout.
package filewatch

import (
	"fmt"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/internal/credfile"
	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// KeySource is a key file that is read again when it changes. Set it as
// serviceuser.Config.Key.
//
// A changed file replaces the key only when it is a valid key file of the
// same type whose key has not expired: a half-written, malformed or expired
// file, or an application key in place of a service user key, leaves the
// key in use as it is. Both outcomes are reported by the config's
// hooks.Hooks.CredentialReloaded; a refusal also by Rotation's Err. A new
// key ends the token source's backoff at once, and the cached token is
// served throughout. It is safe for concurrent use; one KeySource may serve
// several configs.
type KeySource struct {
	w *fileWatch[*serviceuser.KeyFile]
}

// NewKeySource reads the key file at path, as serviceuser.ReadKeyFile does
// and with its errors, and returns a KeySource that reads it again when it
// changes.
func NewKeySource(path string) (*KeySource, error) {
	w, err := newFileWatch(path, credfile.KindKeyFile, serviceuser.ParseKeyFile)
	if err != nil {
		return nil, err
	}
	w.accept = acceptKey
	return &KeySource{w: w}, nil
}

// acceptKey refuses a valid key file that cannot replace cur. Both were
// parsed, so their types are the two ZITADEL writes.
func acceptKey(cur, next *serviceuser.KeyFile) error {
	if next.Type != cur.Type {
		return &serviceuser.KeyFileError{Field: "type", Problem: fmt.Sprintf("a key of type %q cannot replace one of type %q", next.Type, cur.Type)}
	}
	return next.CheckExpiry(time.Now())
}

// CurrentKey looks at the file, reads it again if it changed, and returns
// the key in use: the last valid one. The error is always nil; a refused
// file is reported by Rotation's Err.
func (ks *KeySource) CurrentKey() (*serviceuser.KeyFile, error) {
	if ks == nil {
		return nil, nil
	}
	return ks.w.poll(true).cur, nil
}

// Rotation reports the keys taken after the first, the file's path when it
// is plainly a path, and why the latest change of the file was refused (a
// *serviceuser.CredentialError), if it was. It looks at the file at most
// once a second.
func (ks *KeySource) Rotation() serviceuser.Rotation {
	if ks == nil {
		return serviceuser.Rotation{}
	}
	return ks.w.rotation()
}

// Format names the file and the key in use, never the key itself, for
// every verb.
func (ks *KeySource) Format(f fmt.State, verb rune) {
	text := "filewatch.KeySource(nil)"
	if ks != nil {
		text = fmt.Sprintf("filewatch.KeySource{%s %v}", watchedPath(ks.w.path), ks.w.peek().cur)
	}
	redact.Format(f, verb, text)
}

// SecretSource is a file holding a client secret or a personal access token
// that is read again when it changes, as KeySource does for key files: set
// it as serviceuser.ClientCredentialsConfig.ClientSecret or
// serviceuser.PATConfig.PAT. A changed file is taken only when it holds a
// usable secret (surrounding white space is removed; an empty file, or one
// with inner white space or control characters, is refused). A personal
// access token is asked for again at least every 30 s: delete the old one no
// sooner than that after writing the new one.
type SecretSource struct {
	w *fileWatch[serviceuser.Secret]
}

// NewSecretSource reads the secret in the file at path, as
// serviceuser.ReadPAT does, and returns a SecretSource that reads it again
// when it changes.
func NewSecretSource(path string) (*SecretSource, error) {
	w, err := newFileWatch(path, credfile.KindSecret, parseSecretFile)
	if err != nil {
		return nil, err
	}
	return &SecretSource{w: w}, nil
}

// parseSecretFile is the content check of serviceuser.ReadPAT, for any secret.
func parseSecretFile(data []byte) (serviceuser.Secret, error) {
	s, e := credfile.ParseSecretFile(data, credfile.KindSecret, "the secret")
	if e != nil {
		return "", credentialError(e)
	}
	return serviceuser.Secret(s), nil
}

// CurrentSecret looks at the file, reads it again if it changed, and returns
// the secret in use: the last valid one. The error is always nil; a refused
// file is reported by Rotation's Err.
func (ss *SecretSource) CurrentSecret() (serviceuser.Secret, error) {
	if ss == nil {
		return "", nil
	}
	return ss.w.poll(true).cur, nil
}

// Rotation is KeySource.Rotation for the secret file.
func (ss *SecretSource) Rotation() serviceuser.Rotation {
	if ss == nil {
		return serviceuser.Rotation{}
	}
	return ss.w.rotation()
}

// Format names the file, never the secret, for every verb.
func (ss *SecretSource) Format(f fmt.State, verb rune) {
	text := "filewatch.SecretSource(nil)"
	if ss != nil {
		text = "filewatch.SecretSource{" + watchedPath(ss.w.path) + " secret=" + redact.Marker + "}"
	}
	redact.Format(f, verb, text)
}

// watchedPath shows path when it is plainly a path.
func watchedPath(path string) string {
	if credfile.ShowablePath(path) {
		return "path=" + path
	}
	return "path=" + redact.Marker
}
