package introspection

import (
	"context"
	"sync"
	"time"
)

// assertionReuse is how long one client assertion serves introspection
// requests. ZITADEL accepts an assertion any number of times within its
// lifetime (it checks no jti), which is close to an hour; an RSA signature
// costs about a millisecond of CPU, which a flood of junk tokens would
// otherwise cost per token.
const assertionReuse = time.Minute

// assertions hands out a client assertion, signing a new one when the last
// is older than assertionReuse or was made for another audience.
type assertions struct {
	sign func(audience string) (string, error)
	// sem admits one signing at a time; unlike a mutex, a caller whose
	// context ends stops waiting for a slow signer (a remote key, say).
	sem chan struct{}

	mu       sync.Mutex
	last     string
	audience string
	signedAt time.Time
}

func newAssertions(sign func(audience string) (string, error)) *assertions {
	return &assertions{sign: sign, sem: make(chan struct{}, 1)}
}

// get returns an assertion for audience.
func (a *assertions) get(ctx context.Context, audience string) (string, error) {
	if s, ok := a.fresh(audience); ok {
		return s, nil
	}
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-a.sem }()
	if s, ok := a.fresh(audience); ok {
		return s, nil // signed while this caller waited
	}
	now := time.Now()
	s, err := a.sign(audience)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	a.last, a.audience, a.signedAt = s, audience, now
	a.mu.Unlock()
	return s, nil
}

// fresh returns the last assertion if it may still serve audience.
func (a *assertions) fresh(audience string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ok := a.last != "" && a.audience == audience && time.Since(a.signedAt) < assertionReuse
	return a.last, ok
}
