package serviceuser

import (
	"time"

	"github.com/go-serviceuser/serviceuser/internal/contain"
)

// Hooks are optional callbacks for what token sources and introspectors do,
// in the style of net/http/httptrace.ClientTrace: set the fields you need;
// nil fields cost nothing, and fields added later break no one. Callbacks run
// on the goroutine doing the work, after it: they must return quickly. No
// event carries a credential, an assertion or a token. Logging (SlogHooks)
// and metrics adapters are built on them; JoinHooks runs several.
//
// DiscoveryDone, RefreshStart, RefreshDone and CredentialReloaded run on a
// token source's refresh, which waits for them: calling that source's Token
// or Close from them deadlocks (Token waits for the refresh, which waits for
// the callback; TokenContext waits until its context ends), so hand such
// work to another goroutine. LastError, Ready and Invalidate are safe there.
// A callback that panics is stopped there: the panic is recovered and
// dropped, and the work it observes goes on.
type Hooks struct {
	// DiscoveryDone follows each fetch of the discovery document.
	DiscoveryDone func(DiscoveryDoneInfo)
	// RefreshStart precedes each token request of a token source.
	RefreshStart func(RefreshStartInfo)
	// RefreshDone follows each token request of a token source.
	RefreshDone func(RefreshDoneInfo)
	// TokenRejected follows an API's 401 for a token a Transport sent.
	TokenRejected func(TokenRejectedInfo)
	// CredentialReloaded follows each change of a watched credential file
	// (WatchKeyFile, WatchSecretFile), told at the token source's next
	// token request after it is seen: the new credential is in use, or it
	// was refused (Err) and the old one stays.
	CredentialReloaded func(CredentialReloadedInfo)
	// IntrospectionDone follows each Introspect call that returned an answer
	// or an error.
	IntrospectionDone func(IntrospectionDoneInfo)
}

// DiscoveryDoneInfo describes a fetch of the discovery document.
type DiscoveryDoneInfo struct {
	Issuer   string
	Duration time.Duration
	Err      error // nil on success
}

// RefreshStartInfo describes a token request that is starting.
type RefreshStartInfo struct {
	// Waited is true when callers wait for this request (no valid token is
	// cached), false for a refresh ahead of expiry.
	Waited bool
	// Attempt counts the requests since the last success, from 1.
	Attempt int
}

// RefreshDoneInfo describes a token request that ended.
type RefreshDoneInfo struct {
	Waited   bool
	Attempt  int
	Duration time.Duration
	// Err is nil on success; then Expiry is when the new token stops being served.
	Err    error
	Expiry time.Time
	// NextAttempt is when the next request may start after a failure (backoff).
	NextAttempt time.Time
}

// TokenRejectedInfo describes an API's 401 answer to a token.
type TokenRejectedInfo struct {
	StatusCode int
	// Dropped is true when the token was handed to the source's Invalidate
	// (a *TokenSource keeps a newer token, and one younger than 10 s).
	Dropped bool
	// Retried is true when the request was sent again with a new token.
	Retried bool
}

// CredentialReloadedInfo describes a change of a watched credential file.
type CredentialReloadedInfo struct {
	Path  string
	KeyID string // the key id now in use, for key files
	Err   error  // why the new file was refused; nil when it is in use
}

// IntrospectionDoneInfo describes an Introspect call.
type IntrospectionDoneInfo struct {
	CacheHit bool
	Duration time.Duration
	// Active is ZITADEL's answer. False also when ZITADEL refused the API
	// application's key (wrong or deleted): it answers both alike.
	Active bool
	Err    error
}

// JoinHooks returns hooks that call each of hooks' callbacks in turn; nil
// entries are skipped.
func JoinHooks(hooks ...*Hooks) *Hooks {
	return &Hooks{
		DiscoveryDone:      joinHook(hooks, func(h *Hooks) func(DiscoveryDoneInfo) { return h.DiscoveryDone }),
		RefreshStart:       joinHook(hooks, func(h *Hooks) func(RefreshStartInfo) { return h.RefreshStart }),
		RefreshDone:        joinHook(hooks, func(h *Hooks) func(RefreshDoneInfo) { return h.RefreshDone }),
		TokenRejected:      joinHook(hooks, func(h *Hooks) func(TokenRejectedInfo) { return h.TokenRejected }),
		CredentialReloaded: joinHook(hooks, func(h *Hooks) func(CredentialReloadedInfo) { return h.CredentialReloaded }),
		IntrospectionDone:  joinHook(hooks, func(h *Hooks) func(IntrospectionDoneInfo) { return h.IntrospectionDone }),
	}
}

// joinHook gathers one callback of every hooks value into one; nil when none is set.
func joinHook[I any](hooks []*Hooks, field func(*Hooks) func(I)) func(I) {
	var fns []func(I)
	for _, h := range hooks {
		if h != nil && field(h) != nil {
			fns = append(fns, field(h))
		}
	}
	if len(fns) == 0 {
		return nil
	}
	return func(info I) {
		for _, fn := range fns {
			fn(info)
		}
	}
}

// The methods below run one callback if set; a nil *Hooks has none.

func (h *Hooks) discoveryDone(i DiscoveryDoneInfo) {
	if h != nil {
		contain.Hook(h.DiscoveryDone, i)
	}
}

func (h *Hooks) refreshStart(i RefreshStartInfo) {
	if h != nil {
		contain.Hook(h.RefreshStart, i)
	}
}

func (h *Hooks) refreshDone(i RefreshDoneInfo) {
	if h != nil {
		contain.Hook(h.RefreshDone, i)
	}
}

func (h *Hooks) tokenRejected(i TokenRejectedInfo) {
	if h != nil {
		contain.Hook(h.TokenRejected, i)
	}
}

func (h *Hooks) credentialReloaded(i CredentialReloadedInfo) {
	if h != nil {
		contain.Hook(h.CredentialReloaded, i)
	}
}
