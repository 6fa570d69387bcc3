package serviceusertest

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func postIntrospect(t *testing.T, s *Server, form url.Values) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.IntrospectionURL(), strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, s, req)
}

func introspectAs(t *testing.T, s *Server, assertion, token string) response {
	t.Helper()
	return postIntrospect(t, s, url.Values{
		"token":                 {token},
		"client_assertion_type": {ClientAssertionType},
		"client_assertion":      {assertion},
	})
}

// introspectOK introspects token with a fresh assertion of app at now.
func introspectOK(t *testing.T, s *Server, app *Application, now time.Time, token string) response {
	t.Helper()
	r := introspectAs(t, s, signApp(t, app, appClaims(s, app, now)), token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r
}

func TestApplicationKeyFileLayout(t *testing.T) {
	s := newServer(t)
	app := s.NewApplication()
	assert.True(t, strings.HasPrefix(string(app.KeyFile), `{"type":"application","keyId":"`+app.KeyID+`","key":"-----BEGIN RSA PRIVATE KEY-----\n`))
	var f map[string]string
	require.NoError(t, json.Unmarshal(app.KeyFile, &f))
	assert.Equal(t, map[string]string{
		"type": "application", "keyId": app.KeyID, "key": f["key"], "appId": app.AppID, "clientId": app.ClientID,
	}, f)
	block, _ := pem.Decode([]byte(f["key"]))
	require.NotNil(t, block)
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	require.NoError(t, err)
	assert.True(t, key.Equal(app.PrivateKey))
	rsaKey, ok := app.PrivateKey.(*rsa.PrivateKey)
	require.True(t, ok)
	assert.Equal(t, 2048, rsaKey.N.BitLen())
	assert.NotEqual(t, app.AppID, app.KeyID)
	assert.NotEqual(t, s.NewApplication().ClientID, app.ClientID)
}

func TestIntrospectJWTProfileToken(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		now := time.Now()
		u, app := s.NewServiceUser(), s.NewApplication()
		tok := requireIssued(t, grantWithScope(t, s, u, now, "openid profile "+app.AudienceScope()))

		r := introspectOK(t, s, app, now, tok)
		assert.Equal(t, true, r.json["active"])
		assert.Equal(t, u.UserID, r.json["sub"])
		assert.Equal(t, u.Username, r.json["client_id"])
		assert.Equal(t, u.Username, r.json["username"])
		assert.Equal(t, "openid profile "+app.AudienceScope(), r.json["scope"])
		assert.Equal(t, float64(now.Unix()), r.json["iat"])
		assert.Equal(t, float64(now.Add(DefaultTokenLifetime).Unix()), r.json["exp"])
		assert.Equal(t, "Bearer", r.json["token_type"])
		assert.Equal(t, s.Issuer(), r.json["iss"])
		assert.Equal(t, []any{app.ProjectID, app.ClientID}, r.json["aud"])
		assert.Equal(t, "no-store", r.header.Get("Cache-Control"))

		sleepUntil(t, now.Add(DefaultTokenLifetime))
		expired := introspectOK(t, s, app, now.Add(DefaultTokenLifetime), tok)
		assert.JSONEq(t, `{"active":false}`, expired.raw)
	})
}

func TestIntrospectClientCredentialsToken(t *testing.T) {
	s := newServer(t)
	u, secret := s.NewServiceUserWithSecret()
	app := s.NewApplication()
	req := withBasic(u.Username, secret)
	req.form.Set("scope", "openid "+app.AudienceScope())
	tok := requireIssued(t, req.post(t, s))
	r := introspectOK(t, s, app, time.Now(), tok)
	assert.Equal(t, true, r.json["active"])
	assert.Equal(t, u.UserID, r.json["sub"])
	assert.Equal(t, u.Username, r.json["client_id"])
}

// A personal access token's audience is ZITADEL's own project, which no API
// application belongs to.
func TestIntrospectPersonalAccessToken(t *testing.T) {
	s := newServer(t)
	u, app := s.NewServiceUser(), s.NewApplication()
	pat := s.NewPersonalAccessToken(u.UserID, time.Time{})
	require.Equal(t, http.StatusOK, userinfo(t, s, pat).status)
	assert.Equal(t, `{"active":false}`, introspectOK(t, s, app, time.Now(), pat).raw)
}

func TestIntrospectUnknownToken(t *testing.T) {
	s := newServer(t)
	app := s.NewApplication()
	r := introspectOK(t, s, app, time.Now(), "no-such-token")
	assert.Equal(t, `{"active":false}`, r.raw)
}

// audienceToken returns a token of a new service user for app's project.
func audienceToken(t *testing.T, s *Server, app *Application) string {
	t.Helper()
	u := s.NewServiceUser()
	return requireIssued(t, grantWithScope(t, s, u, s.clock(), "openid "+app.AudienceScope()))
}

func TestZitadelIntrospectionNeedsProjectAudience(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		now := time.Now()
		u, app := s.NewServiceUser(), s.NewApplication()
		without := requireIssued(t, grantWithScope(t, s, u, now, "openid"))
		assert.Equal(t, `{"active":false}`, introspectOK(t, s, app, now, without).raw)
		otherApp := s.NewApplication()
		forOther := requireIssued(t, grantWithScope(t, s, u, now, "openid "+otherApp.AudienceScope()))
		assert.Equal(t, `{"active":false}`, introspectOK(t, s, app, now, forOther).raw)

		scope := "openid " + app.AudienceScope()
		with := requireIssued(t, grantWithScope(t, s, u, now, scope))
		r := introspectOK(t, s, app, now, with)
		assert.Equal(t, []string{"active", "aud", "auth_time", "client_id", "exp", "iat", "iss", "jti", "nbf", "scope", "sub", "token_type"}, fields(r.json))
		assert.Equal(t, true, r.json["active"])
		assert.Equal(t, scope, r.json["scope"])
		assert.Equal(t, u.Username, r.json["client_id"], "the machine user's login name")
		assert.Equal(t, "Bearer", r.json["token_type"])
		assert.Equal(t, float64(now.Add(DefaultTokenLifetime).Unix()), r.json["exp"])
		assert.Equal(t, float64(now.Unix()), r.json["iat"])
		assert.Equal(t, float64(now.Unix()), r.json["nbf"])
		assert.Equal(t, float64(now.Unix()), r.json["auth_time"])
		assert.Equal(t, u.UserID, r.json["sub"])
		assert.Equal(t, s.Issuer(), r.json["iss"])
		assert.Equal(t, []any{app.ProjectID, app.ClientID}, r.json["aud"])
		jti, _ := r.json["jti"].(string)
		assert.NotEmpty(t, jti)
		assert.Equal(t, jti, introspectOK(t, s, app, now, with).json["jti"], "one ID per token")

		withProfile := requireIssued(t, grantWithScope(t, s, u, now, "openid profile "+app.AudienceScope()))
		p := introspectOK(t, s, app, now, withProfile)
		assert.Equal(t, []string{"active", "aud", "auth_time", "client_id", "exp", "iat", "iss", "jti", "nbf", "scope", "sub", "token_type", "username"}, fields(p.json))
		assert.Equal(t, u.Username, p.json["username"])
		assert.NotEqual(t, jti, p.json["jti"], "each token its own ID")
	})
}
