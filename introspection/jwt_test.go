package introspection_test

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

const allProjectRoles = "urn:zitadel:iam:org:projects:roles"

// jwtSetup is an in-process fake (call inside a synctest bubble when time
// matters) with an API application, a service user switched to JWT access
// tokens and granted "admin" in the application's project, and one of its
// JWTs asked with the role scope.
func jwtSetup(t *testing.T) (*serviceusertest.Server, *serviceusertest.Application, *serviceusertest.ServiceUser, string) {
	t.Helper()
	srv := serviceusertest.NewServer(serviceusertest.InProcess())
	t.Cleanup(srv.Close)
	app, user := srv.NewApplication(), srv.NewServiceUser()
	srv.SetJWTAccessTokens(user.UserID, true)
	srv.GrantRole(user.UserID, app.ProjectID, "admin")
	return srv, app, user, userToken(t, srv, user, app.AudienceScope(), allProjectRoles)
}

// userToken is an access token of user with scopes besides "openid".
func userToken(t *testing.T, srv *serviceusertest.Server, user *serviceusertest.ServiceUser, scopes ...string) string {
	t.Helper()
	cfg := serviceuser.Config{Key: mustKey(t, user.KeyFile), Issuer: srv.Issuer(), HTTPClient: srv.Client(), Scopes: append([]string{"openid"}, scopes...)}
	tok, err := cfg.Token(context.Background())
	require.NoError(t, err)
	return tok.AccessToken
}

// jwtIntrospector is an Introspector for app in mode; with a key unless
// mode is ModeJWT.
func jwtIntrospector(t *testing.T, srv *serviceusertest.Server, app *serviceusertest.Application, mode introspection.Mode, h *hooks.Hooks) *introspection.Introspector {
	t.Helper()
	cfg := introspection.Config{Mode: mode, ProjectID: app.ProjectID, Issuer: srv.Issuer(), HTTPClient: srv.Client(), Hooks: h}
	if mode != introspection.ModeJWT {
		cfg.Key = mustKey(t, app.KeyFile)
	}
	in, err := cfg.NewIntrospector(context.Background())
	require.NoError(t, err)
	return in
}

// A JWT access token verified locally gives the Result introspection
// gives, without an introspection request, and the same roles.
func TestJWTVerifiedLocally(t *testing.T) {
	srv, app, user, tok := jwtSetup(t)
	local, err := jwtIntrospector(t, srv, app, introspection.ModeJWT, nil).Introspect(context.Background(), tok)
	require.NoError(t, err)
	assert.Zero(t, srv.IntrospectionRequests())
	remote, err := jwtIntrospector(t, srv, app, introspection.ModeIntrospect, nil).Introspect(context.Background(), tok)
	require.NoError(t, err)
	require.Equal(t, 1, srv.IntrospectionRequests())

	require.True(t, local.Active)
	assert.True(t, local.Local)
	assert.False(t, remote.Local)
	assert.Equal(t, user.UserID, local.Subject)
	assert.Equal(t, user.Username, local.ClientID)
	assert.Contains(t, local.Audience(), app.ProjectID)
	assert.True(t, local.HasRole("admin"))
	assert.True(t, introspection.RequireAllRoles("admin").MetBy(local))
	for name, pair := range map[string][2]any{
		"Subject": {local.Subject, remote.Subject}, "ClientID": {local.ClientID, remote.ClientID},
		"Issuer": {local.Issuer, remote.Issuer}, "Audience": {local.Audience(), remote.Audience()}, "JWTID": {local.JWTID, remote.JWTID},
		"ExpiresAt": {local.ExpiresAt, remote.ExpiresAt}, "IssuedAt": {local.IssuedAt, remote.IssuedAt},
		"NotBefore": {local.NotBefore, remote.NotBefore}, "Roles": {local.Roles(), remote.Roles()},
	} {
		assert.Equal(t, pair[1], pair[0], name)
	}
	assert.Contains(t, local.Claims(), "urn:zitadel:iam:org:project:"+app.ProjectID+":roles")
}

// The modes: ModeJWT refuses opaque tokens without a request,
// ModeJWTOrIntrospect introspects them, ModeIntrospect introspects JWTs too.
func TestModes(t *testing.T) {
	srv, app, _, tok := jwtSetup(t)
	opaque := userToken(t, srv, srv.NewServiceUser(), app.AudienceScope())
	for _, c := range []struct {
		mode         introspection.Mode
		opaqueActive bool
		requests     int
		jwtLocal     bool
	}{
		{introspection.ModeJWT, false, 0, true},
		{introspection.ModeJWTOrIntrospect, true, 1, true},
		{introspection.ModeIntrospect, true, 2, false},
	} {
		before := srv.IntrospectionRequests()
		in := jwtIntrospector(t, srv, app, c.mode, nil)
		r, err := in.Introspect(context.Background(), opaque)
		require.NoError(t, err)
		assert.Equal(t, c.opaqueActive, r.Active, c.mode)
		r, err = in.Introspect(context.Background(), tok)
		require.NoError(t, err)
		assert.True(t, r.Active, c.mode)
		assert.Equal(t, c.jwtLocal, r.Local, c.mode)
		assert.Equal(t, c.requests, srv.IntrospectionRequests()-before, c.mode)
	}
}

// A revoked JWT still verifies locally; AlwaysIntrospect refuses it, also
// behind a Middleware that verified it locally, and answers 503 without a
// key to introspect with.
func TestAlwaysIntrospectRefusesRevokedJWT(t *testing.T) {
	srv, app, _, tok := jwtSetup(t)
	in := jwtIntrospector(t, srv, app, introspection.ModeJWTOrIntrospect, nil)
	srv.RevokeToken(tok)
	r, err := in.Introspect(context.Background(), tok)
	require.NoError(t, err)
	assert.True(t, r.Active && r.Local, "verified against the key set")

	strict := in.AlwaysIntrospect()
	r, err = strict.Introspect(context.Background(), tok)
	require.NoError(t, err)
	assert.False(t, r.Active)
	assert.Equal(t, 1, srv.IntrospectionRequests())

	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	assert.Equal(t, http.StatusOK, serve(in.Middleware(ok), "Bearer "+tok).Code)
	assert.Equal(t, http.StatusUnauthorized, serve(in.Middleware(strict.Middleware(ok)), "Bearer "+tok).Code)
	assert.Equal(t, http.StatusUnauthorized, serve(in.Middleware(strict.Require(introspection.RequireAnyRole("admin"), ok)), "Bearer "+tok).Code)

	jwtOnly := jwtIntrospector(t, srv, app, introspection.ModeJWT, nil)
	_, err = jwtOnly.AlwaysIntrospect().Introspect(context.Background(), tok)
	var ce *serviceuser.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "Key", ce.Field)
	assert.Equal(t, http.StatusServiceUnavailable, serve(jwtOnly.AlwaysIntrospect().Middleware(ok), "Bearer "+tok).Code)

	plain := jwtIntrospector(t, srv, app, introspection.ModeIntrospect, nil)
	assert.Same(t, plain, plain.AlwaysIntrospect(), "ModeIntrospect introspects every token already")
}

// A verified JWT is kept until its exp, at most CacheTTL, and refused after
// exp plus JWTLeeway; the key set is fetched once for many tokens.
func TestJWTCachedUntilExp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, app, user, tok := jwtSetup(t)
		var hits []bool
		in := jwtIntrospector(t, srv, app, introspection.ModeJWT, &hooks.Hooks{IntrospectionDone: func(_ context.Context, i hooks.IntrospectionDoneInfo) {
			hits = append(hits, i.CacheHit)
		}})
		check := func() bool {
			r, err := in.Introspect(context.Background(), tok)
			require.NoError(t, err)
			return r.Active
		}
		require.True(t, check())
		require.True(t, check())
		time.Sleep(introspection.DefaultCacheTTL)
		require.True(t, check())
		assert.Equal(t, []bool{false, true, false}, hits, "verified again after CacheTTL")

		srv.SetTokenLifetime(2 * time.Minute)
		short := userToken(t, srv, user, app.AudienceScope())
		hits = nil
		for range 3 {
			r, err := in.Introspect(context.Background(), short)
			require.NoError(t, err)
			require.True(t, r.Active)
		}
		time.Sleep(2*time.Minute + introspection.JWTLeeway)
		r, err := in.Introspect(context.Background(), short)
		require.NoError(t, err)
		assert.False(t, r.Active, "expired")
		assert.Equal(t, []bool{false, true, true, false}, hits)
		assert.Equal(t, 1, srv.KeySetRequests(), "the key set was fetched once")
	})
}
