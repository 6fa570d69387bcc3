package serviceuser

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/internal/contain"
	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// KeySource supplies the key Config signs its assertions with (Config.Key).
// The token source asks for it before every token request, so a source may
// hand out a new key at any time (rotation) and the next request uses it.
// *KeyFile (a key that never changes) and *KeyWatcher (a key file read again
// when it changes) implement it; a source of your own (a secret manager, a
// KMS) may too, and should implement RotatingSource when its key changes.
type KeySource interface {
	// CurrentKey returns the key for the next assertion.
	CurrentKey() (*KeyFile, error)
}

// CurrentKey returns kf: a KeyFile is a KeySource that never changes.
func (kf *KeyFile) CurrentKey() (*KeyFile, error) { return kf, nil }

// SecretSource supplies a client secret (ClientCredentialsConfig) or a
// personal access token (PATConfig). Secret (a secret that never changes)
// and *SecretWatcher (a file read again when it changes) implement it; a
// source of your own may too, and should implement RotatingSource when its
// secret changes.
type SecretSource interface {
	// CurrentSecret returns the secret for the next request.
	CurrentSecret() (Secret, error)
}

// CurrentSecret returns s: a Secret is a SecretSource that never changes.
func (s Secret) CurrentSecret() (Secret, error) { return s, nil }

// RotatingSource is the optional interface of a KeySource or SecretSource
// whose credential can change under a running token source (rotation).
// KeyWatcher and SecretWatcher implement it, and so may a source of your
// own. A token source asks its source's Rotation after each credential it
// takes for a token request and, while it backs off after failures, when a
// caller asks it for a token. A change of Rotation.Changes since the last
// request means a new credential: it ends the backoff at once, with the
// quick retries a credential ZITADEL has not projected yet needs; and each
// change of Changes or Err is told to hooks.Hooks.CredentialReloaded once, at the
// next token request.
type RotatingSource interface {
	// Rotation reports the source's rotations so far. It may be called
	// while the token source holds its lock: it must return at once (no
	// network request) and be safe for concurrent use.
	Rotation() Rotation
}

// Rotation is what a RotatingSource reports.
type Rotation struct {
	// Changes counts the times the source has started handing out another
	// credential: it grows by one with each.
	Changes uint64
	// Path names where the credential comes from, such as a file's path,
	// for hooks.CredentialReloadedInfo.Path; never the credential itself. It may
	// be empty.
	Path string
	// Err is why the latest attempt to change the credential failed, the
	// one in use staying; nil when the latest change was taken.
	Err error
}

// KeyWatcher is a key file that is read again when it changes, so that a key
// rotated by replacing a mounted file (a Kubernetes Secret update, a new
// file renamed into place, or the file rewritten) is used without a restart.
// Set it as Config.Key.
//
// The file is looked at (one os.Stat) before every token request, and, at
// most once a second, while the token source is in backoff; it is read only
// when its size, modification time or identity differ (or it was modified
// within two seconds of the last read, a time a same-size rewrite may not
// change), and taken only when its content differs. A changed file replaces the key only when it is a
// valid key file of the same type whose key has not expired: a half-written,
// malformed or expired file, or an application key in place of a service
// user key, leaves the key in use as it is. Both outcomes are reported by the
// config's hooks.Hooks.CredentialReloaded; a refusal also by Rotation's Err. A new
// key ends the token source's backoff at once, and the cached token is served
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
	w.accept = acceptKey
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
// file is reported by Rotation's Err.
func (kw *KeyWatcher) CurrentKey() (*KeyFile, error) {
	if kw == nil {
		return nil, nil
	}
	return kw.w.poll(true).cur, nil
}

// Rotation reports the keys taken after the first, the file's path when it
// is plainly a path, and why the latest change of the file was refused (a
// *CredentialError), if it was. It looks at the file at most once a second.
func (kw *KeyWatcher) Rotation() Rotation {
	if kw == nil {
		return Rotation{}
	}
	return kw.w.rotation()
}

// Format names the file and the key in use, never the key itself, for
// every verb.
func (kw *KeyWatcher) Format(f fmt.State, verb rune) {
	text := "serviceuser.KeyWatcher(nil)"
	if kw != nil {
		text = "serviceuser.KeyWatcher{" + watchedPath(kw.w.path) + " " + kw.w.peek().cur.String() + "}"
	}
	redact.Format(f, verb, text)
}

// SecretWatcher is a file holding a client secret or a personal access
// token that is read again when it changes, as KeyWatcher does for key
// files: set it as ClientCredentialsConfig.ClientSecret or PATConfig.PAT. A
// changed file is taken only when it holds a usable
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
// file is reported by Rotation's Err.
func (sw *SecretWatcher) CurrentSecret() (Secret, error) {
	if sw == nil {
		return "", nil
	}
	return sw.w.poll(true).cur, nil
}

// Rotation is KeyWatcher.Rotation for the secret file.
func (sw *SecretWatcher) Rotation() Rotation {
	if sw == nil {
		return Rotation{}
	}
	return sw.w.rotation()
}

// Format names the file, never the secret, for every verb.
func (sw *SecretWatcher) Format(f fmt.State, verb rune) {
	text := "serviceuser.SecretWatcher(nil)"
	if sw != nil {
		text = "serviceuser.SecretWatcher{" + watchedPath(sw.w.path) + " secret=" + redacted + "}"
	}
	redact.Format(f, verb, text)
}

// watchedPath shows path when it is plainly a path.
func watchedPath(path string) string {
	if showablePath(path) {
		return "path=" + path
	}
	return "path=" + redacted
}

// credentialUse follows a credential source for one token source: it takes
// the credential for each token request and, when the source is a
// RotatingSource, tells the hooks of its rotations and reports a credential
// the last request did not use.
type credentialUse[T any] struct {
	current  func() (T, error)
	rotating RotatingSource // nil: the credential does not change
	describe func(T) string // the key id for events; nil for secrets
	hooks    *hookSet

	mu       sync.Mutex
	used     uint64 // Changes when the last request took its credential
	reported Rotation
}

// newCredentialUse follows src, whose credential current returns, from its
// present state: earlier rotations are not reported.
func newCredentialUse[T any](src any, current func() (T, error), describe func(T) string, h *hookSet) *credentialUse[T] {
	u := &credentialUse[T]{current: current, describe: describe, hooks: h}
	if r, ok := src.(RotatingSource); ok {
		u.rotating = r
		u.reported, _ = rotationOf(r)
		u.used = u.reported.Changes
	}
	return u
}

// take returns the credential for a request, and tells the hooks about a
// rotation they have not heard of, with the request's ctx.
func (u *credentialUse[T]) take(ctx context.Context) (T, error) {
	cur, err := u.current()
	if err != nil || u.rotating == nil {
		return cur, err
	}
	r, ok := rotationOf(u.rotating)
	if !ok {
		return cur, nil
	}
	u.mu.Lock()
	u.used = r.Changes
	tell := r.Changes != u.reported.Changes || !sameError(r.Err, u.reported.Err)
	u.reported = r
	u.mu.Unlock()
	if tell {
		info := hooks.CredentialReloadedInfo{Path: r.Path, Err: r.Err}
		if u.describe != nil {
			info.KeyID = u.describe(cur)
		}
		u.hooks.credentialReloaded(ctx, info)
	}
	return cur, nil
}

// changed reports whether the source hands out a credential the last
// request did not use.
func (u *credentialUse[T]) changed() bool {
	if u.rotating == nil {
		return false
	}
	r, ok := rotationOf(u.rotating)
	u.mu.Lock()
	defer u.mu.Unlock()
	return ok && r.Changes != u.used
}

// rotationOf asks src, which is not the library's; a panic counts as no
// answer (false), and never reaches the token source's lock.
func rotationOf(src RotatingSource) (Rotation, bool) {
	r, err := contain.Call("credential source's Rotation", func() (Rotation, error) { return src.Rotation(), nil })
	return r, err == nil
}

// sameError reports errors with the same text, or both nil: a refusal
// repeated with an equal error is not a new one.
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Error() == b.Error()
}

// changingCredential is a grant whose credential may change under a running
// token source (see TokenSource.credentialChanged).
type changingCredential interface {
	credentialChanged() bool
}
