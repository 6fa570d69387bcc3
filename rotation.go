package serviceuser

import (
	"context"
	"fmt"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// KeySource supplies the key Config signs its assertions with (see
// Config.KeySource). The token source asks for it before every token
// request, so a source may hand out a new key at any time (rotation) and the
// next request uses it. *KeyFile (a key that never changes) and *KeyWatcher
// (a key file read again when it changes) implement it.
type KeySource interface {
	// CurrentKey returns the key for the next assertion.
	CurrentKey() (*KeyFile, error)
}

// CurrentKey returns kf: a KeyFile is a KeySource that never changes.
func (kf *KeyFile) CurrentKey() (*KeyFile, error) { return kf, nil }

// SecretSource supplies a client secret (ClientCredentialsConfig) or a
// personal access token (PATConfig) that may change under a running token
// source. *SecretWatcher (a file read again when it changes) and Secret (a
// secret that never changes) implement it.
type SecretSource interface {
	// CurrentSecret returns the secret for the next request.
	CurrentSecret() (Secret, error)
}

// CurrentSecret returns s: a Secret is a SecretSource that never changes.
func (s Secret) CurrentSecret() (Secret, error) { return s, nil }

// KeyWatcher is a key file that is read again when it changes, so that a key
// rotated by replacing a mounted file (a Kubernetes Secret update, a new
// file renamed into place, or the file rewritten) is used without a restart.
// Set it as Config.KeySource.
//
// The file is looked at (one os.Stat) before every token request, and, at
// most once a second, while the token source is in backoff; it is read only
// when its size, modification time or identity differ (or it was modified
// within two seconds of the last read, a time a same-size rewrite may not
// change), and taken only when its content differs. A changed file replaces the key only when it is a
// valid key file of the same type whose key has not expired: a half-written,
// malformed or expired file, or an application key in place of a service
// user key, leaves the key in use as it is. Both outcomes are reported by the
// config's Hooks.CredentialReloaded; a refusal also by LastError. A new key
// ends the token source's backoff at once, and the cached token is served
// throughout. It is safe for concurrent use; one KeyWatcher may serve several
// configs.
type KeyWatcher struct{ w *fileWatch[*KeyFile] }

// WatchKeyFile reads the key file at path, as ReadKeyFile does and with its
// errors, and returns a KeyWatcher that reads it again when it changes.
func WatchKeyFile(path string) (*KeyWatcher, error) {
	w, err := newFileWatch(path, keyFileKind, ParseKeyFile)
	if err != nil {
		return nil, err
	}
	w.accept, w.describe = acceptKey, func(kf *KeyFile) string { return kf.KeyID }
	return &KeyWatcher{w: w}, nil
}

// acceptKey refuses a valid key file that cannot replace cur.
func acceptKey(cur, next *KeyFile) error {
	if next.Type != cur.Type {
		return keyFileError("type", fmt.Sprintf("a key of type %q cannot replace one of type %q", printableID(next.Type), cur.Type), nil)
	}
	return next.CheckExpiry(time.Now())
}

// CurrentKey looks at the file, reads it again if it changed, and returns
// the key in use: the last valid one. The error is always nil; a refused
// file is reported by LastError.
func (kw *KeyWatcher) CurrentKey() (*KeyFile, error) {
	if kw == nil {
		return nil, nil
	}
	return kw.w.poll(true).cur, nil
}

// LastError returns why the latest change of the file was refused (a
// *CredentialError), or nil when the file's current content is in use.
func (kw *KeyWatcher) LastError() error {
	if kw == nil {
		return nil
	}
	return kw.w.peek().err
}

// String names the file and the key in use, never the key itself.
func (kw *KeyWatcher) String() string {
	if kw == nil {
		return "serviceuser.KeyWatcher(nil)"
	}
	return "serviceuser.KeyWatcher{" + watchedPath(kw.w.path) + " " + kw.w.peek().cur.String() + "}"
}

// GoString is String: %#v must not reveal the key either.
func (kw *KeyWatcher) GoString() string { return kw.String() }

// Format prints String for every verb.
func (kw *KeyWatcher) Format(f fmt.State, verb rune) { redact.Format(f, verb, kw.String()) }

// SecretWatcher is a file holding a client secret or a personal access
// token that is read again when it changes, as KeyWatcher does for key
// files: set it as ClientCredentialsConfig.ClientSecretSource or
// PATConfig.PATSource. A changed file is taken only when it holds a usable
// secret (surrounding white space is removed; an empty file, or one with
// inner white space or control characters, is refused).
type SecretWatcher struct{ w *fileWatch[Secret] }

// secretKind names watched secret files in errors.
const secretKind = "secret"

// WatchSecretFile reads the secret in the file at path, as ReadPAT does, and
// returns a SecretWatcher that reads it again when it changes.
func WatchSecretFile(path string) (*SecretWatcher, error) {
	w, err := newFileWatch(path, secretKind, parseSecretFile)
	if err != nil {
		return nil, err
	}
	return &SecretWatcher{w: w}, nil
}

// parseSecretFile is the content check of ReadPAT, for any secret.
func parseSecretFile(data []byte) (Secret, error) {
	text, utf16 := textEncoding(data)
	if utf16 {
		return "", &CredentialError{Kind: secretKind, Problem: errUTF16}
	}
	return checkSecret(string(text), secretKind, "the secret", "")
}

// CurrentSecret looks at the file, reads it again if it changed, and returns
// the secret in use: the last valid one. The error is always nil; a refused
// file is reported by LastError.
func (sw *SecretWatcher) CurrentSecret() (Secret, error) {
	if sw == nil {
		return "", nil
	}
	return sw.w.poll(true).cur, nil
}

// LastError returns why the latest change of the file was refused (a
// *CredentialError), or nil when the file's current content is in use.
func (sw *SecretWatcher) LastError() error {
	if sw == nil {
		return nil
	}
	return sw.w.peek().err
}

// String names the file, never the secret.
func (sw *SecretWatcher) String() string {
	if sw == nil {
		return "serviceuser.SecretWatcher(nil)"
	}
	return "serviceuser.SecretWatcher{" + watchedPath(sw.w.path) + " secret=" + redacted + "}"
}

// GoString is String: %#v must not reveal the secret either.
func (sw *SecretWatcher) GoString() string { return sw.String() }

// Format prints String for every verb.
func (sw *SecretWatcher) Format(f fmt.State, verb rune) { redact.Format(f, verb, sw.String()) }

// watchedPath shows path when it is plainly a path.
func watchedPath(path string) string {
	if showablePath(path) {
		return "path=" + path
	}
	return "path=" + redacted
}

// keySupply is how a key grant gets the key for each request (given the
// request's ctx, which a watched file's reload is told to hooks with) and,
// for a watched file, learns that it changed (nil otherwise).
func keySupply(src KeySource, hooks *Hooks) (current func(context.Context) (*KeyFile, error), changed func() bool) {
	if kw, ok := src.(*KeyWatcher); ok && kw != nil {
		u := newWatchUse(kw.w, hooks)
		return u.take, u.changed
	}
	return fixedSupply(src.CurrentKey), nil
}

// secretSupply is keySupply for secrets.
func secretSupply(src SecretSource, hooks *Hooks) (current func(context.Context) (Secret, error), changed func() bool) {
	if sw, ok := src.(*SecretWatcher); ok && sw != nil {
		u := newWatchUse(sw.w, hooks)
		return u.take, u.changed
	}
	return fixedSupply(src.CurrentSecret), nil
}

// fixedSupply is the supply of a source that tells hooks nothing.
func fixedSupply[T any](current func() (T, error)) func(context.Context) (T, error) {
	return func(context.Context) (T, error) { return current() }
}

// watchedCredential is a grant whose credential may change under a running
// token source (see TokenSource.credentialChanged).
type watchedCredential interface {
	credentialChanged() bool
}
