package serviceuser_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
)

// TestRefusedAssertionNamesMeasuredClockDrift: the hint of a refused
// assertion names the offset between the clocks, measured from the answer's
// Date header, once it is large enough to be the cause.
func TestRefusedAssertionNamesMeasuredClockDrift(t *testing.T) {
	cases := map[string]struct {
		serverOffset time.Duration
		want         string
	}{
		"this machine ahead": {-75 * time.Second, "this machine's clock is 1m15s ahead of ZITADEL's"},
		"ZITADEL ahead":      {2 * time.Hour, "ZITADEL's clock is 2h0m0s ahead of this machine's"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, cfg := inProcessConfig(t, nil)
				srv.SetClockOffset(tc.serverOffset)
				_, err := cfg.Token(t.Context())
				var te *serviceuser.TokenError
				require.ErrorAs(t, err, &te)
				assert.Contains(t, te.Hint, tc.want)
				assert.Contains(t, te.Hint, "rejected assertions", "the usual causes follow")
			})
		})
	}
}

func TestSmallClockDriftIsNotNamed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, cfg := inProcessConfig(t, nil)
		srv.SetClockOffset(20 * time.Second) // covered by the backdating: accepted
		_, err := cfg.Token(t.Context())
		require.NoError(t, err)

		srv.RevokeKey(cfg.Key.(*serviceuser.KeyFile).KeyID) // refused for another reason
		_, err = cfg.Token(t.Context())
		var te *serviceuser.TokenError
		require.ErrorAs(t, err, &te)
		assert.NotContains(t, te.Hint, "clock is")
	})
}
