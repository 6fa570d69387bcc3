package serviceuser

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

func TestTimingSetValues(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := &oauth2.Token{Expiry: now.Add(time.Hour)}
	for _, cold := range []bool{false, true} {
		s := timing{ahead: 5 * time.Minute, margin: time.Minute}.schedule(tok, now, cold)
		assert.Equal(t, now.Add(59*time.Minute), s.expiresAt, "served until the margin")
		assert.Equal(t, now.Add(54*time.Minute), s.refreshAt, "a set lead is exact, not jittered")
	}
}

func TestTimingCappedByLifetime(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := &oauth2.Token{Expiry: now.Add(30 * time.Second)} // ZITADEL with a 30 s lifetime
	s := timing{ahead: time.Hour, margin: time.Minute}.schedule(tok, now, false)
	assert.Equal(t, now.Add(15*time.Second), s.expiresAt, "margin capped at half the lifetime")
	assert.Equal(t, now.Add(7500*time.Millisecond), s.refreshAt, "lead capped at half the service time")
}

func TestTimingValidated(t *testing.T) {
	cfg := ClientCredentialsConfig{ClientID: "u", ClientSecret: Secret("s"), Issuer: "https://z.example", RefreshAhead: -time.Second}
	assert.ErrorContains(t, cfg.Validate(), "ClientCredentialsConfig.RefreshAhead: negative")
	cfg.RefreshAhead, cfg.ExpiryMargin = 0, -time.Second
	assert.ErrorContains(t, cfg.Validate(), "ClientCredentialsConfig.ExpiryMargin: negative")
}

// TestRefreshAheadOptionReachesTheSource: a source made with RefreshAhead
// refreshes exactly that long before the token stops being served.
func TestRefreshAheadOptionReachesTheSource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := serviceusertest.NewServer(serviceusertest.InProcess())
		defer srv.Close()
		srv.SetTokenLifetime(time.Hour)
		key, err := ParseKeyFile(srv.NewServiceUser().KeyFile)
		require.NoError(t, err)
		cfg := Config{Key: key, Issuer: srv.Issuer(), HTTPClient: srv.Client(),
			RefreshAhead: 10 * time.Minute, ExpiryMargin: time.Minute}
		ts := cfg.TokenSource(t.Context())
		defer ts.Close()
		first, err := ts.Token()
		require.NoError(t, err)

		time.Sleep(49*time.Minute - time.Second) // just before 60 - 1 - 10 minutes
		tok, err := ts.Token()
		require.NoError(t, err)
		synctest.Wait()
		assert.Same(t, first, tok)
		assert.Equal(t, 1, srv.TokenRequests(), "no refresh before the lead")

		time.Sleep(time.Second)
		_, err = ts.Token() // stale now: starts the refresh, returns the cached token
		require.NoError(t, err)
		synctest.Wait()
		assert.Equal(t, 2, srv.TokenRequests(), "refreshed at the lead")
	})
}
