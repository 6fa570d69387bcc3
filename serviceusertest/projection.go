package serviceusertest

import (
	"errors"
	"time"
)

// ErrNotProjected is wrapped by rejections of a credential made less than the
// projection delay ago (see SetProjectionDelay).
var ErrNotProjected = errors.New("not projected yet")

// SetProjectionDelay makes the server answer like ZITADEL reading from
// projections that trail writes by d of elapsed time (moving the server's
// clock with SetClockOffset does not change it): for d after a service user key, an application key, a
// client secret or a personal access token is made, it is refused with the
// answer for an unknown one (key: 500 Errors.Internal; application key: an
// inactive introspection; secret: 400 invalid_request
// "Errors.User.Machine.Secret.NotExisting"; PAT: 401), and for d after one is
// revoked or replaced it is still accepted. Zero, the default, makes every
// change visible at once. Access tokens issued by the token endpoint are not
// delayed, as ZITADEL reads them from its event store.
func (s *Server) SetProjectionDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projectionDelay = d
}

// SetUserProjectionLag makes users trail their keys by d of elapsed time:
// ZITADEL reads users from a projection of their own, which for a
// user made a moment ago is now and then behind the key projection (once in
// 120 first token requests of brand-new users, measured on v4.13.1). For
// the projection delay (SetProjectionDelay) plus d after a user is made, a
// JWT profile grant whose key is already visible is refused with 404
// invalid_request "Errors.User.NotFound", which Rejections reports wrapping
// ErrUserNotFound and ErrNotProjected; before that, while its key is not
// visible either, with 500 Errors.Internal. A key added to a user made long
// ago is refused with 500 Errors.Internal only, as on ZITADEL. Zero, the
// default, shows each user with its key.
func (s *Server) SetUserProjectionLag(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userLag = d
}

// lifespan records when a credential was written and when it was deleted
// (zero: not deleted), on the real clock: projections trail writes by
// elapsed time, whatever the server's clock says.
type lifespan struct {
	created, deleted time.Time
}

// visibility is what a reader of the projections sees of a credential.
type visibility int

const (
	visible visibility = iota
	notYet             // made, not projected yet
	gone               // deleted, and the deletion projected
)

// seen tells what a reader sees at now when projections trail by delay. A zero
// delay shows every change at once, whatever the clock says.
func (l lifespan) seen(now time.Time, delay time.Duration) visibility {
	switch {
	case delay > 0 && now.Before(l.created.Add(delay)):
		return notYet
	case !l.deleted.IsZero() && (delay <= 0 || !now.Before(l.deleted.Add(delay))):
		return gone
	}
	return visible
}

// markDeleted records a deletion at now, unless one is recorded already.
func (l *lifespan) markDeleted(now time.Time) {
	if l.deleted.IsZero() {
		l.deleted = now
	}
}

// delay returns the projection delay; s.mu must be held.
func (s *Server) delay() time.Duration { return s.projectionDelay }
