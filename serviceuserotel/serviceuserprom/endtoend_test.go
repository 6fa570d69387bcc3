package serviceuserprom_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	serviceuserprom "github.com/go-serviceuser/serviceuser/serviceuserotel/serviceuserprom"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

func TestATokenSourceIsCollected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		z := serviceusertest.NewServer(serviceusertest.InProcess())
		defer z.Close()
		z.SetTokenLifetime(time.Hour)
		key, err := serviceuser.ParseKeyFile(z.NewServiceUser().KeyFile)
		require.NoError(t, err)
		c := serviceuserprom.New("")
		ts := serviceuser.Config{Key: key, Issuer: z.Issuer(), HTTPClient: z.Client(), Hooks: c.Hooks()}.TokenSource(t.Context())
		defer ts.Close()
		_, err = ts.Token()
		require.NoError(t, err)
		require.Equal(t, 1, z.TokenRequests())

		compare(t, c, `
# HELP serviceuser_token_refreshes_total Token requests that ended, by outcome and mode (waited or ahead); failed ones also by error type, endpoint, HTTP status and OAuth error code.
# TYPE serviceuser_token_refreshes_total counter
serviceuser_token_refreshes_total{code="",endpoint="",error_type="",mode="waited",outcome="ok",status_code=""} 1
# HELP serviceuser_discovery_fetches_total Fetches of the discovery document.
# TYPE serviceuser_discovery_fetches_total counter
serviceuser_discovery_fetches_total{error_type="",outcome="ok"} 1
`, "serviceuser_token_refreshes_total", "serviceuser_discovery_fetches_total")
		h := histogram(t, c, "serviceuser_token_refresh_duration_seconds", map[string]string{"mode": "waited", "outcome": "ok"})
		assert.Equal(t, uint64(1), h.GetSampleCount())
		left := gaugeValue(t, c)
		t.Logf("remaining lifetime of a 1 h token: %v s", left)
		assert.InDelta(t, time.Hour.Seconds(), left, 15, "the token's lifetime less the source's safety margin")
		assert.LessOrEqual(t, left, time.Hour.Seconds())
	})
}
