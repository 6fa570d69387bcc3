package serviceuser_test

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// TestConfigAndKeyFileErrorsNeverLeak: errors about the configuration or
// the key file show neither the secret nor the key.
func TestConfigAndKeyFileErrorsNeverLeak(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	userFile := srv.NewServiceUser().KeyFile
	keyLines := pemLines(t, userFile)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(userFile, &raw))
	pemKey := raw["key"].(string)
	corrupt := func(edit func(map[string]any)) []byte {
		c := maps.Clone(raw)
		edit(c)
		b, err := json.Marshal(c)
		require.NoError(t, err)
		return b
	}
	keyFiles := map[string][]byte{
		"truncated key":      corrupt(func(m map[string]any) { m["key"] = pemKey[:len(pemKey)/2] }),
		"key body altered":   corrupt(func(m map[string]any) { m["key"] = strings.Replace(pemKey, "\n", "\nAAAA", 3) }),
		"no keyId":           corrupt(func(m map[string]any) { delete(m, "keyId") }),
		"unknown type":       corrupt(func(m map[string]any) { m["type"] = "x" }),
		"bad expirationDate": corrupt(func(m map[string]any) { m["expirationDate"] = "soon" }),
		"not JSON":           []byte("key: " + pemKey),
	}
	for name, data := range keyFiles {
		t.Run(name, func(t *testing.T) {
			_, err := serviceuser.ParseKeyFile(data)
			var ke *serviceuser.KeyFileError
			require.ErrorAs(t, err, &ke)
			requireNoLeak(t, keyLines, append(errorParts(err), ke)...)
		})
	}
	key := mustKey(t, userFile)
	configs := map[string]func() ([]any, error){
		"client credentials without ClientID": func() ([]any, error) {
			cfg := serviceuser.ClientCredentialsConfig{ClientSecret: serviceuser.Secret(sentinelSecret), Issuer: srv.Issuer()}
			_, err := tokenSourceOf(t, cfg).Token()
			return []any{cfg, cfg.Validate()}, err
		},
		"client credentials over plain http": func() ([]any, error) {
			cfg := serviceuser.ClientCredentialsConfig{ClientID: "svc", ClientSecret: serviceuser.Secret(sentinelSecret), Issuer: "http://zitadel.example.com"}
			_, err := tokenSourceOf(t, cfg).Token()
			return []any{cfg}, err
		},
		"PAT expired": func() ([]any, error) {
			cfg := serviceuser.PATConfig{PAT: serviceuser.Secret(sentinelPAT), Expiry: time.Unix(1, 0)}
			_, err := cfg.TokenSource(context.Background()).Token()
			return []any{cfg, cfg.TokenSource(context.Background())}, err
		},
		"introspection with a user key": func() ([]any, error) {
			cfg := introspection.Config{Key: key, Issuer: srv.Issuer()}
			_, err := cfg.NewIntrospector(context.Background())
			return []any{cfg}, err
		},
		"Address with a password": func() ([]any, error) {
			cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer(), Route: serviceuser.Route{Address: "https://svc:" + sentinelSecret + "@zitadel.internal"}}
			_, err := tokenSource(t, cfg).Token()
			return []any{cfg.Validate()}, err
		},
		"Address with a token as user": func() ([]any, error) {
			cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer(), Route: serviceuser.Route{Address: "http://" + sentinelSecret + "@zitadel.internal:8080"}}
			return nil, cfg.Validate()
		},
		"plain http Issuer with a password": func() ([]any, error) {
			cfg := serviceuser.ClientCredentialsConfig{ClientID: "svc", ClientSecret: serviceuser.Secret("s"), Issuer: "http://svc:" + sentinelSecret + "@zitadel.example.com"}
			return nil, cfg.Validate()
		},
		"https Issuer with a password": func() ([]any, error) {
			cfg := serviceuser.Config{Key: key, Issuer: "https://svc:" + sentinelSecret + "@zitadel.example.com"}
			_, err := tokenSource(t, cfg).Token()
			return []any{cfg.Validate()}, err
		},
		"TokenURL with a password, not a URL": func() ([]any, error) {
			cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer(), TokenURL: "ftp://svc:" + sentinelSecret + "@zitadel.example.com/token"}
			return nil, cfg.Validate()
		},
		"key with bad scopes": func() ([]any, error) {
			cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer(), Scopes: []string{"a b"}}
			_, err := tokenSource(t, cfg).Token()
			return []any{cfg, key}, err
		},
	}
	for name, run := range configs {
		t.Run(name, func(t *testing.T) {
			subjects, err := run()
			require.Error(t, err)
			requireNoLeak(t, append(keyLines, sentinelSecret, sentinelPAT), append(subjects, errorParts(err)...)...)
		})
	}
}
