package serviceusertest

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDateHeaderShowsServerClock: the Date header follows SetClockOffset, as
// a real server's Date shows its own clock.
func TestDateHeaderShowsServerClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewServer(InProcess())
		defer s.Close()
		s.SetClockOffset(75 * time.Second)
		resp, err := s.Client().Get(s.Issuer() + "/.well-known/openid-configuration")
		require.NoError(t, err)
		resp.Body.Close()
		date, err := http.ParseTime(resp.Header.Get("Date"))
		require.NoError(t, err)
		assert.True(t, time.Now().Add(75*time.Second).Truncate(time.Second).Equal(date), "Date %v", date)
	})
}
