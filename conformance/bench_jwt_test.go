package conformance

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/pkg/client/rs"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// BenchmarkJWTAccessToken checks one JWT access token of the fake:
// zitadel/oidc's resource server introspects it (a request each time, as
// rs keeps no cache), the library verifies it against the key set the
// first time (cache off, so every check is a first sight) and finds it in
// its cache afterwards.
//
//	go test -run '^$' -bench JWTAccessToken -benchmem ./
func BenchmarkJWTAccessToken(b *testing.B) {
	z := serviceusertest.NewServer()
	b.Cleanup(z.Close)
	app, user := z.NewApplication(), z.NewServiceUser()
	z.SetJWTAccessTokens(user.UserID, true)
	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	require.NoError(b, err)
	tok, err := serviceuser.Config{Key: key, Issuer: z.Issuer(), Scopes: []string{"openid", app.AudienceScope()}}.Token(context.Background())
	require.NoError(b, err)
	token := tok.AccessToken

	var appKey struct {
		Key, KeyID, ClientID string
	}
	require.NoError(b, json.Unmarshal(app.KeyFile, &appKey))
	server, err := rs.NewResourceServerJWTProfile(context.Background(), z.Issuer(), appKey.ClientID, appKey.KeyID, []byte(appKey.Key))
	require.NoError(b, err)
	b.Run("zitadel-oidc-rs-introspect", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, err := rs.Introspect[*oidc.IntrospectionResponse](context.Background(), server, token)
			if err != nil || !r.Active {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"library-first-seen", -1}, {"library-seen-before", 0}} {
		in, err := introspection.Config{Mode: introspection.ModeJWT, Issuer: z.Issuer(), ProjectID: app.ProjectID, CacheTTL: c.ttl}.NewIntrospector(context.Background())
		require.NoError(b, err)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r, err := in.Introspect(context.Background(), token); err != nil || !r.Active {
					b.Fatal(err)
				}
			}
		})
	}
}
