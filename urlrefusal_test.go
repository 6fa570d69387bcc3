package serviceuser_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
)

// TestWrongHostErrorSaysInstanceNotFound: an issuer that is not the instance's
// domain gets ZITADEL's "Instance not found" text and the wrong-host hint,
// from discovery as from the token endpoint.
func TestWrongHostErrorSaysInstanceNotFound(t *testing.T) {
	srv, _, byListener := inClusterFake(t)
	key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
	require.NoError(t, err)

	for name, tokenURL := range map[string]string{"discovery": "", "token endpoint": byListener + "/oauth/v2/token"} {
		t.Run(name, func(t *testing.T) {
			_, err := serviceuser.Config{Key: key, Issuer: byListener, TokenURL: tokenURL}.Token(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Instance not found")
			assert.Contains(t, err.Error(), "the issuer's host must be the instance's domain exactly")
			assert.Contains(t, err.Error(), "set Address")
		})
	}
}

// TestInsecureURLRefusalsMatchErrInsecureURL: plain http to a host that is not
// loopback is refused wherever the URL comes from, with ErrInsecureURL and
// with the way to opt in, before any request.
func TestInsecureURLRefusalsMatchErrInsecureURL(t *testing.T) {
	key, appKey := fakeKeys(t)
	counter := &countingTransport{}
	hc := &http.Client{Transport: counter}
	configs := map[string]func() error{
		"Config.Issuer":                  serviceuser.Config{Key: key, Issuer: "http://zitadel.example.com", HTTPClient: hc}.Validate,
		"Config.TokenURL":                serviceuser.Config{Key: key, Issuer: "https://zitadel.example.com", TokenURL: "http://zitadel.example.com/oauth/v2/token", HTTPClient: hc}.Validate,
		"ClientCredentialsConfig.Issuer": serviceuser.ClientCredentialsConfig{ClientID: "u", ClientSecret: serviceuser.Secret("s"), Issuer: "http://zitadel.example.com", HTTPClient: hc}.Validate,
		"introspection.Config.IntrospectionURL": introspection.Config{Key: appKey, Issuer: "https://zitadel.example.com",
			IntrospectionURL: "http://zitadel.example.com/oauth/v2/introspect", HTTPClient: hc}.Validate,
	}
	for name, validate := range configs {
		t.Run(name, func(t *testing.T) {
			requireInsecureURLRefusal(t, validate(), name)
		})
	}
	_, err := serviceuser.Config{Key: key, Issuer: "http://zitadel.example.com", HTTPClient: hc}.Token(context.Background())
	assert.ErrorIs(t, err, serviceuser.ErrInsecureURL)
	assert.Zero(t, counter.n, "no request is made for a refused URL")
}

// requireInsecureURLRefusal fails unless err refuses plain http with
// ErrInsecureURL, as a *ConfigError naming field ("Config.Field"), and tells
// of the way to opt in.
func requireInsecureURLRefusal(t *testing.T, err error, field string) {
	t.Helper()
	require.ErrorIs(t, err, serviceuser.ErrInsecureURL)
	var ce *serviceuser.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, field, ce.Config+"."+ce.Field)
	assert.Contains(t, err.Error(), "InsecureAllowPlainHTTP")
}

// TestDiscoveredPlainHTTPEndpointMatchesErrInsecureURL: a discovery document
// that names a plain-http token endpoint is refused with ErrInsecureURL.
func TestDiscoveredPlainHTTPEndpointMatchesErrInsecureURL(t *testing.T) {
	issuer := "https://zitadel.example.com"
	doc := fmt.Sprintf(`{"issuer":%q,"token_endpoint":"http://zitadel.example.com/oauth/v2/token"}`, issuer)
	docs := newRecorder(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, doc)
	}))
	key, _ := fakeKeys(t)
	_, err := serviceuser.Config{Key: key, Issuer: issuer, HTTPClient: docs.client()}.Token(context.Background())
	var de *serviceuser.DiscoveryError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, serviceuser.ErrInsecureURL)
	assert.Contains(t, err.Error(), "token_endpoint")
	assert.Contains(t, err.Error(), "InsecureAllowPlainHTTP")
	assert.Len(t, docs.requests(), 1, "only the discovery document was fetched")
}
