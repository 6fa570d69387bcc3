package serviceusertest_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// TestInProcessTokenSourceInBubble runs ExampleInProcess in a bubble: the
// token source refreshes ahead of expiry on the bubble's clock, and the
// server checks the new assertion on that same clock.
func TestInProcessTokenSourceInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := serviceusertest.NewServer(serviceusertest.InProcess())
		defer srv.Close()
		key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
		require.NoError(t, err)
		cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer(), HTTPClient: srv.Client()}
		ts := cfg.TokenSource(context.Background())
		defer ts.Close()

		first, err := ts.Token()
		require.NoError(t, err)
		assert.Equal(t, serviceusertest.DefaultTokenLifetime, time.Until(first.Expiry))

		time.Sleep(11 * time.Hour)
		stale, err := ts.Token()
		require.NoError(t, err)
		assert.Same(t, first, stale, "served while the refresh runs")
		synctest.Wait()
		assert.Equal(t, 2, srv.IssuedTokens())
		second, err := ts.Token()
		require.NoError(t, err)
		assert.NotEqual(t, first.AccessToken, second.AccessToken)
		assert.Equal(t, serviceusertest.DefaultTokenLifetime, time.Until(second.Expiry))
	})
}
