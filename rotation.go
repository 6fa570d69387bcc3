package serviceuser

import (
	"context"
	"sync"

	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/internal/contain"
)

// KeySource supplies the key Config signs its assertions with (Config.Key).
// The token source asks for it before every token request, so a source may
// hand out a new key at any time (rotation) and the next request uses it.
// *KeyFile (a key that never changes) and *filewatch.KeySource (a key file
// read again when it changes, of package
// github.com/go-serviceuser/serviceuser/filewatch) implement it; a source of
// your own (a secret manager, a KMS) may too, and should implement
// RotatingSource when its key changes.
type KeySource interface {
	// CurrentKey returns the key for the next assertion.
	CurrentKey() (*KeyFile, error)
}

// CurrentKey returns kf: a KeyFile is a KeySource that never changes.
func (kf *KeyFile) CurrentKey() (*KeyFile, error) { return kf, nil }

// SecretSource supplies a client secret (ClientCredentialsConfig) or a
// personal access token (PATConfig). Secret (a secret that never changes)
// and *filewatch.SecretSource (a file read again when it changes) implement
// it; a source of your own may too, and should implement RotatingSource when
// its secret changes.
type SecretSource interface {
	// CurrentSecret returns the secret for the next request.
	CurrentSecret() (Secret, error)
}

// CurrentSecret returns s: a Secret is a SecretSource that never changes.
func (s Secret) CurrentSecret() (Secret, error) { return s, nil }

// RotatingSource is the optional interface of a KeySource or SecretSource
// whose credential can change under a running token source (rotation).
// The file watchers of package filewatch implement it, and so may a source
// of your own. A token source asks its source's Rotation after each
// credential it takes for a token request and, while it backs off after
// failures, when a caller asks it for a token. A change of Rotation.Changes
// since the last request means a new credential: it ends the backoff at
// once, with the quick retries a credential ZITADEL has not projected yet
// needs; and each change of Changes or Err is told to
// hooks.Hooks.CredentialReloaded once, at the next token request.
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
	// for hooks.CredentialReloadedInfo.Path; never the credential itself.
	// It may be empty.
	Path string
	// Err is why the latest attempt to change the credential failed, the
	// one in use staying; nil when the latest change was taken.
	Err error
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
