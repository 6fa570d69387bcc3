package serviceusertest

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jwtHeader returns a JWT's decoded header, as sent.
func jwtHeader(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	require.Len(t, parts, 3, "a JWT")
	b, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	return string(b)
}

// A machine user switched to JWT access tokens gets an RS256 JWT signed with
// the instance's active key, with exactly the claims ZITADEL v4.13.1 sends.
func TestZitadelJWTAccessToken(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		u, app := s.NewServiceUser(), s.NewApplication()
		s.SetJWTAccessTokens(u.UserID, true)
		now := time.Now()
		active, _ := s.keySet()

		scope := "openid profile email " + scopeOwner + " " + app.AudienceScope()
		r := grantWithScope(t, s, u, now, scope)
		tok := requireIssued(t, r)
		assert.Equal(t, float64(43199), r.json["expires_in"])
		assert.JSONEq(t, `{"alg":"RS256","kid":"`+active.id+`","typ":"JWT"}`, jwtHeader(t, tok))
		c := verifyJWT(t, s, tok)
		assert.Equal(t, []string{"aud", "client_id", "exp", "iat", "iss", "jti", "nbf", "sub"}, fields(c), "no scope, no userinfo claims")
		assert.Equal(t, s.Issuer(), c["iss"])
		assert.Equal(t, u.UserID, c["sub"])
		assert.Equal(t, u.Username, c["client_id"])
		assert.Equal(t, float64(now.Unix()), c["iat"])
		assert.Equal(t, c["iat"], c["nbf"])
		assert.Equal(t, float64(now.Add(DefaultTokenLifetime).Unix()), c["exp"], "exp-iat is the token lifetime")

		// Introspection answers for it as for an opaque token: same
		// audience, same ID.
		in := introspectOK(t, s, app, now, tok)
		assert.Equal(t, []string{"active", "aud", "auth_time", "client_id", "exp", "iat", "iss", "jti", "nbf", "scope",
			"sub", "token_type", "urn:zitadel:iam:user:resourceowner:id", "urn:zitadel:iam:user:resourceowner:name",
			"urn:zitadel:iam:user:resourceowner:primary_domain", "username"}, fields(in.json))
		assert.Equal(t, in.json["aud"], c["aud"])
		assert.Contains(t, c["aud"], app.ProjectID)
		assert.Equal(t, in.json["jti"], c["jti"])
		assert.Equal(t, c["exp"], in.json["exp"])
		assert.Equal(t, scope, in.json["scope"])
		info := userinfo(t, s, tok)
		require.Equal(t, http.StatusOK, info.status, info.raw)
		assert.Equal(t, u.UserID, info.json["sub"])
		assert.Equal(t, u.Username, info.json["preferred_username"])

		// Without an audience scope the audience is the user's login name.
		s.SetTokenLifetime(30 * time.Second)
		plain := verifyJWT(t, s, requireIssued(t, grantWithScope(t, s, u, now, "openid")))
		assert.Equal(t, []any{u.Username}, plain["aud"])
		assert.Equal(t, float64(30), plain["exp"].(float64)-plain["iat"].(float64))
		assert.NotEqual(t, c["jti"], plain["jti"])

		// Revoked: inactive at introspection, refused by userinfo, and
		// still valid to a verifier that only checks the signature.
		s.RevokeToken(tok)
		assert.JSONEq(t, `{"active":false}`, introspectOK(t, s, app, now, tok).raw)
		assert.JSONEq(t, `{"error":"access_denied","error_description":"access token invalid"}`, userinfo(t, s, tok).raw)
		verifyJWT(t, s, tok)

		// Switched back: opaque again.
		s.SetJWTAccessTokens(u.UserID, false)
		assert.Len(t, requireIssued(t, grantWithScope(t, s, u, now, "openid")), 104)
	})
}

// Roles go into a JWT access token only with a role scope, in the
// per-project form, one claim per project in the audience.
func TestZitadelJWTAccessTokenRoles(t *testing.T) {
	s := newServer(t)
	u, p, q := s.NewServiceUser(), s.NewApplication(), s.NewApplication()
	s.SetJWTAccessTokens(u.UserID, true)
	s.GrantRole(u.UserID, p.ProjectID, "admin", "viewer")
	s.GrantRole(u.UserID, q.ProjectID, "reader")
	aud := p.AudienceScope() + " " + q.AudienceScope()
	for scope, want := range map[string]map[string]any{
		"openid " + aud: {},
		"openid " + allRoles + " " + aud: {
			projectRoles(p.ProjectID): granted(s, u, "admin", "viewer"),
			projectRoles(q.ProjectID): granted(s, u, "reader"),
		},
		"openid " + scopeRole("admin") + " " + aud: {projectRoles(p.ProjectID): granted(s, u, "admin")},
	} {
		tok := requireIssued(t, grantWithScope(t, s, u, time.Now(), scope))
		assert.Equal(t, want, roleClaims(verifyJWT(t, s, tok)), scope)
		if !strings.Contains(scope, scopeRole("")) {
			assert.Equal(t, granted(s, u, "reader"), introspectOK(t, s, q, time.Now(), tok).json[anyProject],
				"introspection adds roles with or without a role scope, %s", scope)
		}
	}
}

// Client credentials follow the user's token type too; a rotation moves the
// signature to the next key; personal access tokens stay opaque.
func TestJWTAccessTokenKinds(t *testing.T) {
	s := newServer(t)
	u, secret := s.NewServiceUserWithSecret()
	s.SetJWTAccessTokens(u.UserID, true)
	tok := requireIssued(t, withBasic(u.Username, secret).post(t, s))
	assert.Equal(t, u.UserID, verifyJWT(t, s, tok)["sub"])

	_, next := s.keySet()
	s.RotateSigningKey()
	rotated := requireIssued(t, withBasic(u.Username, secret).post(t, s))
	assert.Equal(t, next.id, signedBy(t, rotated))
	verifyJWT(t, s, rotated)
	_, set := keySet(t, s)
	assert.Empty(t, set.Key(signedBy(t, tok)), "the old key left the key set")

	pat := s.NewPersonalAccessToken(u.UserID, time.Time{})
	assert.Len(t, pat, 104)
	assert.NotContains(t, pat, ".")
	assert.PanicsWithValue(t, `serviceusertest: SetJWTAccessTokens: unknown user "nobody"`, func() { s.SetJWTAccessTokens("nobody", true) })
}
