package introspection_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
)

// jwtWithHeader is a JWT whose header is header, with a payload and a
// signature of the right alphabet.
func jwtWithHeader(header string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(header)) + ".eyJzdWIiOiJ1In0.c2lnbmF0dXJl"
}

// junkShapes are tokens ZITADEL never issues.
var junkShapes = map[string]string{
	"short":                   "junk000000000001",
	"not b64token":            strings.Repeat("A", 100) + "!%",
	"inner space":             strings.Repeat("A", 50) + " " + strings.Repeat("A", 50),
	"padding inside":          strings.Repeat("A", 50) + "=" + strings.Repeat("A", 50),
	"non-ASCII":               strings.Repeat("A", 100) + "é",
	"too long":                strings.Repeat("A", 513),
	"JWT alg none":            jwtWithHeader(`{"alg":"none"}`),
	"JWT alg HS256":           jwtWithHeader(`{"alg":"HS256","typ":"JWT"}`),
	"JWT header not JSON":     jwtWithHeader(`alg RS256`),
	"JWT header array":        jwtWithHeader(`["RS256"]`),
	"JWT header not base64":   "e30!." + "eyJzdWIiOiJ1In0.c2ln",
	"JWT without signature":   jwtWithHeader(`{"alg":"RS256"}`) + ".",
	"JWT of two parts":        base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + ".eyJzdWIiOiJ1In0",
	"JWT of four parts":       jwtWithHeader(`{"alg":"RS256"}`) + ".eA",
	"JWT too long":            jwtWithHeader(`{"alg":"RS256"}`) + strings.Repeat("A", 16<<10),
	"JWT with padded payload": base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + ".eyJzdWIiOiJ1In0=.c2ln",
}

// TestJunkShapesCostNoRequest: a token of a shape ZITADEL never issues is
// inactive without a request, through Introspect and the middleware alike.
func TestJunkShapesCostNoRequest(t *testing.T) {
	srv, in, token, _, _ := introspectionSetup(t)
	h := in.Middleware(subjectHandler)
	for name, junk := range junkShapes {
		r, err := in.Introspect(context.Background(), junk)
		require.NoError(t, err, name)
		assert.False(t, r.Active, name)
		rec := serve(h, "Bearer "+junk)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, name)
		assert.Equal(t, `Bearer error="invalid_token"`, rec.Header().Get("WWW-Authenticate"), name)
	}
	assert.Zero(t, srv.IntrospectionRequests())
	assert.Equal(t, http.StatusOK, serve(h, "Bearer "+token).Code)
	assert.Equal(t, 1, srv.IntrospectionRequests())
}

// TestIssuedShapesAreIntrospected: every kind of token the fake ZITADEL
// issues (opaque, JWT access token, personal access token) is asked about.
func TestIssuedShapesAreIntrospected(t *testing.T) {
	srv, in, opaque, _, app := introspectionSetup(t)
	jwtUser := srv.NewServiceUser()
	srv.SetJWTAccessTokens(jwtUser.UserID, true)
	cfg := serviceuser.Config{Key: mustKey(t, jwtUser.KeyFile), Issuer: srv.Issuer(), Scopes: []string{"openid", app.AudienceScope()}}
	tok, err := cfg.Token(context.Background())
	require.NoError(t, err)
	jwt := tok.AccessToken
	require.Equal(t, 2, strings.Count(jwt, "."), "a JWT access token")
	pat := srv.NewPersonalAccessToken(jwtUser.UserID, time.Time{})

	for i, tok := range []string{opaque, jwt, pat} {
		_, err := in.Introspect(context.Background(), tok)
		require.NoError(t, err)
		assert.Equal(t, i+1, srv.IntrospectionRequests(), tok)
	}
	r, err := in.Introspect(context.Background(), jwt)
	require.NoError(t, err)
	assert.True(t, r.Active, "the JWT access token is active for the API")
}
