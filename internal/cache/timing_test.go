package cache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"golang.org/x/oauth2"
)

func TestDefaultSchedule(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 100 {
		s := Timing{}.schedule(&oauth2.Token{Expiry: now.Add(12 * time.Hour)}, now, false)
		assert.Equal(t, now.Add(12*time.Hour-ExpiryMargin), s.expiresAt)
		ahead := s.expiresAt.Sub(s.refreshAt)
		assert.GreaterOrEqual(t, ahead, time.Duration(RefreshAheadMin*float64(12*time.Hour)))
		assert.LessOrEqual(t, ahead, time.Duration(refreshAheadMax*float64(12*time.Hour)))
		cold := Timing{}.schedule(&oauth2.Token{Expiry: now.Add(12 * time.Hour)}, now, true)
		ahead = cold.expiresAt.Sub(cold.refreshAt)
		assert.GreaterOrEqual(t, ahead, time.Duration(RefreshAheadMin*float64(12*time.Hour)))
		assert.LessOrEqual(t, ahead, time.Duration(coldRefreshAheadMax*float64(12*time.Hour)), "a first token's refresh is spread wider")
	}
	short := Timing{}.schedule(&oauth2.Token{Expiry: now.Add(10 * time.Second)}, now, false)
	assert.Equal(t, now.Add(9*time.Second), short.expiresAt, "margin is at most a tenth of the lifetime")
}

func TestTimingSetValues(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := &oauth2.Token{Expiry: now.Add(time.Hour)}
	for _, cold := range []bool{false, true} {
		s := Timing{Ahead: 5 * time.Minute, Margin: time.Minute}.schedule(tok, now, cold)
		assert.Equal(t, now.Add(59*time.Minute), s.expiresAt, "served until the margin")
		assert.Equal(t, now.Add(54*time.Minute), s.refreshAt, "a set lead is exact, not jittered")
	}
}

func TestTimingCappedByLifetime(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := &oauth2.Token{Expiry: now.Add(30 * time.Second)} // ZITADEL with a 30 s lifetime
	s := Timing{Ahead: time.Hour, Margin: time.Minute}.schedule(tok, now, false)
	assert.Equal(t, now.Add(15*time.Second), s.expiresAt, "margin capped at half the lifetime")
	assert.Equal(t, now.Add(7500*time.Millisecond), s.refreshAt, "lead capped at half the service time")
}

// TestShortTokensRefreshedEarlier: a default refresh starts at least
// MinRefreshAhead, at most a third of the service time, before the token
// stops being served; 5-minute tokens keep their 15–25 % lead.
func TestShortTokensRefreshedEarlier(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lead := func(lifetime time.Duration, cold bool) time.Duration {
		s := Timing{}.schedule(&oauth2.Token{Expiry: now.Add(lifetime)}, now, cold)
		return s.expiresAt.Sub(s.refreshAt)
	}
	for range 100 {
		assert.Equal(t, 18*time.Second, lead(time.Minute, false), "a 1-minute token: a third of its 54 s of service, not 9–15 s")
		assert.GreaterOrEqual(t, lead(time.Minute, true), 18*time.Second)
		assert.Equal(t, MinRefreshAhead, lead(2*time.Minute, false), "a 2-minute token: 30 s, not 18–30 s")
		assert.Equal(t, 9*time.Second, lead(30*time.Second, false))
		five := lead(5*time.Minute, false)
		assert.GreaterOrEqual(t, five, 45*time.Second, "5-minute tokens as before")
		assert.LessOrEqual(t, five, 75*time.Second)
	}
}
