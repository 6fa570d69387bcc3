package serviceuser_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
	"github.com/go-serviceuser/serviceuser/internal/route"
	"github.com/go-serviceuser/serviceuser/introspection"
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
		"Discover issuer": {func() error { _, err := serviceuser.Discover(t.Context(), "", serviceuser.Route{}, nil); return err }, "serviceuser: issuer: missing"},
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
	assert.Equal(t, route.HeaderInstanceHost, serviceuser.HeaderInstanceHost)
	assert.EqualError(t, serviceuser.ErrInsecureURL, "serviceuser: refusing to send a token over plain http")
}
