package serviceuser_test

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
)

// TestConfigErrorsNameTheirType: every config's errors name the config's
// own type and field, once.
func TestConfigErrorsNameTheirType(t *testing.T) {
	cases := map[string]struct {
		validate func() error
		want     string
	}{
		"Config key":      {serviceuser.Config{Key: nil}.Validate, "serviceuser: Config.Key: missing"},
		"secret missing":  {serviceuser.ClientCredentialsConfig{ClientID: "u"}.Validate, "serviceuser: ClientCredentialsConfig.ClientSecret: missing"},
		"secret issuer":   {serviceuser.ClientCredentialsConfig{ClientID: "u", ClientSecret: serviceuser.Secret("s")}.Validate, "serviceuser: ClientCredentialsConfig.Issuer: missing"},
		"secret scopes":   {serviceuser.ClientCredentialsConfig{ClientID: "u", ClientSecret: serviceuser.Secret("s"), Issuer: "https://z.example", Scopes: []string{"a b"}}.Validate, "serviceuser: ClientCredentialsConfig.Scopes: scope \"a b\""},
		"plain http":      {serviceuser.ClientCredentialsConfig{ClientID: "u", ClientSecret: serviceuser.Secret("s"), Issuer: "http://z.example"}.Validate, "serviceuser: ClientCredentialsConfig.Issuer: \"http://z.example\" uses plain http"},
		"PAT missing":     {serviceuser.PATConfig{}.Validate, "serviceuser: PATConfig.PAT: missing"},
		"introspection":   {introspection.Config{}.Validate, "serviceuser: introspection.Config.Key: "},
		"Discover issuer": {func() error { _, err := userinfo.Discover(t.Context(), "", serviceuser.Route{}, nil); return err }, "serviceuser: issuer: missing"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := tc.validate()
			var ce *serviceuser.ConfigError
			assert.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, 1, strings.Count(err.Error(), "serviceuser:"), "one prefix: %s", err)
		})
	}
}

// TestDocumentedValues keeps the exported values in step with the internal
// packages that use them.
func TestDocumentedValues(t *testing.T) {
	assert.Equal(t, httpcall.DefaultTimeout, serviceuser.DefaultTimeout)
	assert.EqualError(t, serviceuser.ErrInsecureURL, "serviceuser: refusing to send a token over plain http")
}

// TestOutOfRangeOptionsAreRefused: an option outside what it can mean is
// refused by Validate, naming it, rather than clamped or ignored.
func TestOutOfRangeOptionsAreRefused(t *testing.T) {
	key, appKey := fakeKeys(t)
	const issuer = "https://z.example.com"
	secret := serviceuser.Secret("s")
	cases := map[string]struct {
		validate func() error
		field    string
	}{
		"assertion lifetime below 2 min": {serviceuser.Config{Key: key, Issuer: issuer, AssertionLifetime: time.Minute}.Validate, "Config.AssertionLifetime"},
		"assertion lifetime above 1 h":   {serviceuser.Config{Key: key, Issuer: issuer, AssertionLifetime: 2 * time.Hour}.Validate, "Config.AssertionLifetime"},
		"negative assertion lifetime":    {serviceuser.Config{Key: key, Issuer: issuer, AssertionLifetime: -time.Minute}.Validate, "Config.AssertionLifetime"},
		"negative timeout":               {serviceuser.Config{Key: key, Issuer: issuer, Timeout: -time.Second}.Validate, "Config.Timeout"},
		"negative refresh ahead":         {serviceuser.Config{Key: key, Issuer: issuer, RefreshAhead: -time.Second}.Validate, "Config.RefreshAhead"},
		"negative expiry margin":         {serviceuser.Config{Key: key, Issuer: issuer, ExpiryMargin: -time.Second}.Validate, "Config.ExpiryMargin"},
		"client credentials timeout":     {serviceuser.ClientCredentialsConfig{ClientID: "u", ClientSecret: secret, Issuer: issuer, Timeout: -time.Second}.Validate, "ClientCredentialsConfig.Timeout"},
		"introspection timeout":          {introspection.Config{Key: appKey, Issuer: issuer, Timeout: -time.Second}.Validate, "introspection.Config.Timeout"},
		"SignAssertion lifetime": {func() error {
			_, err := serviceuser.SignAssertion(key, issuer, time.Minute)
			return err
		}, ".lifetime"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var ce *serviceuser.ConfigError
			if assert.ErrorAs(t, tc.validate(), &ce) {
				assert.Equal(t, tc.field, ce.Config+"."+ce.Field)
			}
		})
	}
	for _, d := range []time.Duration{0, 2 * time.Minute, time.Hour} {
		assert.NoError(t, serviceuser.Config{Key: key, Issuer: issuer, AssertionLifetime: d}.Validate(), d)
		_, err := serviceuser.SignAssertion(key, issuer, d)
		assert.NoError(t, err, d)
	}
}

// TestDefaultScopesCannotBeChanged: the default scopes are a value, not a
// variable another package could change for every config in the process.
func TestDefaultScopesCannotBeChanged(t *testing.T) {
	scopes := serviceuser.DefaultScopes()
	scopes[0] = "changed"
	assert.Equal(t, []string{"openid"}, serviceuser.DefaultScopes())
}

func TestTimingValidated(t *testing.T) {
	cfg := serviceuser.ClientCredentialsConfig{ClientID: "u", ClientSecret: serviceuser.Secret("s"), Issuer: "https://z.example", RefreshAhead: -time.Second}
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
		key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
		require.NoError(t, err)
		cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer(), HTTPClient: srv.Client(),
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
