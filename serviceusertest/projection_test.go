package serviceusertest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestZitadelFreshSecret(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		t0 := time.Now()
		s.SetProjectionDelay(20 * time.Millisecond)
		u, secret := s.NewServiceUserWithSecret()
		const notExisting = `{"error":"invalid_request","error_description":"Errors.User.Machine.Secret.NotExisting"}`
		for _, at := range []time.Duration{0, 19 * time.Millisecond} {
			sleepUntil(t, t0.Add(at))
			r := withBasic(u.Username, secret).post(t, s)
			require.Equal(t, http.StatusBadRequest, r.status)
			assert.Equal(t, notExisting, r.raw)
			assert.ErrorIs(t, lastRejection(t, s), ErrNotProjected)
		}
		sleepUntil(t, t0.Add(20*time.Millisecond))
		requireIssued(t, withBasic(u.Username, secret).post(t, s))

		// Replaced: the old secret works and the new one is refused until the
		// change is projected.
		t1 := t0.Add(time.Second)
		sleepUntil(t, t1)
		s.SetClientSecret(u.Username, "new-secret")
		requireIssued(t, withBasic(u.Username, secret).post(t, s))
		r := withBasic(u.Username, "new-secret").post(t, s)
		assert.Equal(t, `{"error":"invalid_request","error_description":"Errors.User.Machine.Secret.Invalid"}`, r.raw)
		sleepUntil(t, t1.Add(20*time.Millisecond))
		requireIssued(t, withBasic(u.Username, "new-secret").post(t, s))
		assert.Equal(t, http.StatusBadRequest, withBasic(u.Username, secret).post(t, s).status)
	})
}

func TestProjectionDelayServiceUserKey(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		t0 := time.Now()
		s.SetProjectionDelay(20 * time.Millisecond)
		u := s.NewServiceUser()
		assertion := signAs(t, u, claimsFor(s, u, t0))

		sleepUntil(t, t0.Add(19*time.Millisecond))
		requireInternal(t, grant(t, s, assertion))
		assert.ErrorIs(t, lastRejection(t, s), ErrNotProjected)
		assert.ErrorIs(t, lastRejection(t, s), ErrKeyNotFound)
		sleepUntil(t, t0.Add(20*time.Millisecond))
		requireIssued(t, grant(t, s, assertion))

		t1 := t0.Add(time.Second)
		sleepUntil(t, t1)
		s.RevokeKey(u.KeyID)
		sleepUntil(t, t1.Add(19*time.Millisecond))
		requireIssued(t, grant(t, s, assertion))
		sleepUntil(t, t1.Add(20*time.Millisecond))
		requireInternal(t, grant(t, s, assertion))
		assert.ErrorIs(t, lastRejection(t, s), ErrKeyRevoked)
	})
}

// TestUserProjectionLag: a brand-new user's key is refused with 500
// Errors.Internal while the key is not projected, then with 404
// invalid_request Errors.User.NotFound while the user is not; a key added to
// a user made long ago gets the 500 only.
func TestUserProjectionLag(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		t0 := time.Now()
		s.SetProjectionDelay(20 * time.Millisecond)
		s.SetUserProjectionLag(10 * time.Millisecond)
		u := s.NewServiceUser()
		assertion := signAs(t, u, claimsFor(s, u, t0))
		const notFound = `{"error":"invalid_request","error_description":"Errors.User.NotFound"}`

		sleepUntil(t, t0.Add(19*time.Millisecond))
		requireInternal(t, grant(t, s, assertion))
		assert.ErrorIs(t, lastRejection(t, s), ErrKeyNotFound)
		for _, at := range []time.Duration{20 * time.Millisecond, 29 * time.Millisecond} {
			sleepUntil(t, t0.Add(at))
			r := grant(t, s, assertion)
			require.Equal(t, http.StatusNotFound, r.status, r.raw)
			assert.Equal(t, notFound, r.raw)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.ErrorIs(t, lastRejection(t, s), ErrUserNotFound)
			assert.ErrorIs(t, lastRejection(t, s), ErrNotProjected)
		}
		sleepUntil(t, t0.Add(30*time.Millisecond))
		requireIssued(t, grant(t, s, assertion))

		// A new key of that user, now visible: only the key lags.
		t1 := t0.Add(time.Second)
		sleepUntil(t, t1)
		withNewKey := withKeyFile(t, u, s.NewKey(u.UserID))
		assertion = signAs(t, withNewKey, claimsFor(s, withNewKey, t1))
		for _, at := range []time.Duration{0, 19 * time.Millisecond} {
			sleepUntil(t, t1.Add(at))
			requireInternal(t, grant(t, s, assertion))
		}
		sleepUntil(t, t1.Add(20*time.Millisecond))
		requireIssued(t, grant(t, s, assertion))
	})
}

func TestProjectionDelayPAT(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		t0 := time.Now()
		s.SetProjectionDelay(20 * time.Millisecond)
		u := s.NewServiceUser()
		pat := s.NewPersonalAccessToken(u.UserID, time.Time{})

		sleepUntil(t, t0.Add(19*time.Millisecond))
		assert.Equal(t, http.StatusUnauthorized, userinfo(t, s, pat).status)
		requireTokenInvalid(t, managementGet(t, s, "/orgs/me", pat, ""))
		sleepUntil(t, t0.Add(20*time.Millisecond))
		assert.Equal(t, http.StatusOK, userinfo(t, s, pat).status)

		t1 := t0.Add(time.Second)
		sleepUntil(t, t1)
		s.RevokeToken(pat)
		sleepUntil(t, t1.Add(19*time.Millisecond))
		assert.Equal(t, http.StatusOK, managementGet(t, s, "/orgs/me", pat, "").status)
		sleepUntil(t, t1.Add(20*time.Millisecond))
		requireTokenInvalid(t, managementGet(t, s, "/orgs/me", pat, ""))

		// Access tokens from the token endpoint are not delayed.
		tok := requireIssued(t, grant(t, s, signAs(t, u, claimsFor(s, u, t1))))
		assert.Equal(t, http.StatusOK, userinfo(t, s, tok).status)
		s.RevokeToken(tok)
		assert.Equal(t, http.StatusUnauthorized, userinfo(t, s, tok).status)
	})
}

func TestProjectionDelayApplicationKey(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		t0 := time.Now().Add(time.Second)
		s.SetProjectionDelay(20 * time.Millisecond)
		u := s.NewServiceUser()
		sleepUntil(t, t0)
		app := s.NewApplication()
		tok := requireIssued(t, grantWithScope(t, s, u, t0, "openid "+app.AudienceScope()))
		assertion := signApp(t, app, appClaims(s, app, t0))
		active := func() any { return introspectAs(t, s, assertion, tok).json["active"] }

		sleepUntil(t, t0.Add(19*time.Millisecond))
		assert.Equal(t, false, active())
		sleepUntil(t, t0.Add(20*time.Millisecond))
		assert.Equal(t, true, active())

		t1 := t0.Add(time.Second)
		sleepUntil(t, t1)
		s.RevokeKey(app.KeyID)
		sleepUntil(t, t1.Add(19*time.Millisecond))
		assert.Equal(t, true, active())
		sleepUntil(t, t1.Add(20*time.Millisecond))
		assert.Equal(t, false, active())
	})
}

// TestProjectionDelayIgnoresClockMoves: projections trail writes by elapsed
// time; moving the server's clock back after a key or secret is made does
// not hide it for longer.
func TestProjectionDelayIgnoresClockMoves(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		t0 := time.Now()
		s.SetProjectionDelay(time.Second)
		u := s.NewServiceUser()
		c, secret := s.NewServiceUserWithSecret()
		sleepUntil(t, t0.Add(2*time.Second))
		s.SetClockOffset(-30 * time.Second)
		requireIssued(t, grant(t, s, signAs(t, u, claimsFor(s, u, time.Now().Add(-30*time.Second)))))
		requireIssued(t, withBasic(c.Username, secret).post(t, s))
	})
}
