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

	"github.com/go-jose/go-jose/v4"
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

// A client assertion the checker refuses gets the answer for an inactive
// token, as on ZITADEL; a request without a client assertion is refused.
func TestIntrospectRejectsClient(t *testing.T) {
	s := newServer(t)
	now := time.Now()
	app, other, u := s.NewApplication(), s.NewApplication(), s.NewServiceUser()
	tok := audienceToken(t, s, app)
	with := func(edit func(c map[string]any)) map[string]any {
		c := appClaims(s, app, now)
		edit(c)
		return c
	}
	good := signApp(t, app, appClaims(s, app, now))
	cases := map[string]url.Values{
		"wrong key":        {"client_assertion": {sign(t, other.PrivateKey, jose.RS256, app.KeyID, appClaims(s, app, now))}},
		"other app's kid":  {"client_assertion": {sign(t, app.PrivateKey, jose.RS256, other.KeyID, appClaims(s, app, now))}},
		"wrong aud":        {"client_assertion": {signApp(t, app, with(func(c map[string]any) { c["aud"] = s.Issuer() + "/" }))}},
		"expired":          {"client_assertion": {signApp(t, app, with(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }))}},
		"iss not sub":      {"client_assertion": {signApp(t, app, with(func(c map[string]any) { c["sub"] = u.UserID }))}},
		"HS256":            {"client_assertion": {sign(t, []byte(strings.Repeat("k", 32)), jose.HS256, app.KeyID, appClaims(s, app, now))}},
		"service user key": {"client_assertion": {signAs(t, u, claimsFor(s, u, now))}},
		"no assertion":     {"client_assertion": {""}},
	}
	refused := map[string]url.Values{
		"no assertion type": {
			"client_assertion_type": {""}, "client_assertion": {good},
		},
		"grant type URN as assertion type": {
			"client_assertion_type": {GrantTypeJWTBearer}, "client_assertion": {good},
		},
	}
	post := func(form url.Values) response {
		f := url.Values{"token": {tok}, "client_assertion_type": {ClientAssertionType}}
		for k, v := range form {
			f[k] = v
		}
		return postIntrospect(t, s, f)
	}
	for name, form := range cases {
		t.Run(name, func(t *testing.T) {
			r := post(form)
			require.Equal(t, http.StatusOK, r.status, r.raw)
			assert.Equal(t, `{"active":false}`, r.raw)
		})
	}
	for name, form := range refused {
		t.Run(name, func(t *testing.T) {
			r := post(form)
			requireInvalidClient(t, r)
			assert.NotContains(t, r.raw, `"active"`)
		})
	}
	assert.Equal(t, true, introspectAs(t, s, good, tok).json["active"], "the good assertion itself passes")
}

func TestIntrospectBasicAuthIsNotEnough(t *testing.T) {
	s := newServer(t)
	u, secret := s.NewServiceUserWithSecret()
	req, err := http.NewRequest(http.MethodPost, s.IntrospectionURL(), strings.NewReader(url.Values{"token": {"x"}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(u.Username), url.QueryEscape(secret))
	r := do(t, s, req)
	requireInvalidClient(t, r)
	assert.Equal(t, "Basic", r.header.Get("WWW-Authenticate"))
}

func TestIntrospectRequestErrors(t *testing.T) {
	s := newServer(t)
	app := s.NewApplication()
	good := signApp(t, app, appClaims(s, app, time.Now()))

	r := introspectAs(t, s, good, "")
	require.Equal(t, http.StatusBadRequest, r.status, r.raw)
	assert.Equal(t, "invalid_request", r.json["error"])

	req, err := http.NewRequest(http.MethodGet, s.IntrospectionURL()+"?token=x", nil)
	require.NoError(t, err)
	r = do(t, s, req)
	require.Equal(t, http.StatusBadRequest, r.status, r.raw)
	assert.Equal(t, "invalid_request", r.json["error"])
}

func TestIntrospectionCountsAndFaults(t *testing.T) {
	s := newServer(t)
	app := s.NewApplication()
	s.FailNext(1, Fault{Status: http.StatusBadGateway})
	r := introspectOK(t, s, app, time.Now(), "x")
	assert.JSONEq(t, `{"active":false}`, r.raw, "FailNext does not touch introspection")
	s.FailNext(0, Fault{})

	s.FailNextIntrospection(2, Fault{Status: http.StatusBadGateway, Body: "<html>bad gateway</html>"})
	for range 2 {
		r = introspectAs(t, s, signApp(t, app, appClaims(s, app, time.Now())), "x")
		require.Equal(t, http.StatusBadGateway, r.status)
		assert.Equal(t, "<html>bad gateway</html>", r.raw)
	}
	assert.Equal(t, `{"active":false}`, introspectAs(t, s, "", "x").raw)
	introspectOK(t, s, app, time.Now(), "x")

	s.FailNextIntrospection(3, Fault{})
	s.FailNextIntrospection(0, Fault{})
	introspectOK(t, s, app, time.Now(), "x")

	assert.Equal(t, 6, s.IntrospectionRequests())
	assert.Equal(t, 0, s.TokenRequests())
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

func TestZitadelIntrospectionBadClientAssertion(t *testing.T) {
	s := newServer(t)
	u, app, deleted := s.NewServiceUser(), s.NewApplication(), s.NewApplication()
	now := time.Now()
	tok := requireIssued(t, grantWithScope(t, s, u, now, "openid "+app.AudienceScope()+" "+deleted.AudienceScope()))
	s.RevokeKey(deleted.KeyID)
	cases := map[string]string{
		"wrong key":   sign(t, deleted.PrivateKey, jose.RS256, app.KeyID, appClaims(s, app, now)),
		"deleted key": signApp(t, deleted, appClaims(s, deleted, now)),
		"unknown kid": sign(t, app.PrivateKey, jose.RS256, "100000000000000001", appClaims(s, app, now)),
	}
	for name, assertion := range cases {
		r := introspectAs(t, s, assertion, tok)
		require.Equal(t, http.StatusOK, r.status, name)
		assert.Equal(t, `{"active":false}`, r.raw, name)
	}
	assert.Equal(t, true, introspectOK(t, s, app, now, tok).json["active"])
}

func TestZitadelIntrospectionAssertionReused(t *testing.T) {
	s := newServer(t)
	u, app := s.NewServiceUser(), s.NewApplication()
	tok := requireIssued(t, grantWithScope(t, s, u, time.Now(), "openid "+app.AudienceScope()))
	c := appClaims(s, app, time.Now())
	c["jti"] = "same-every-time"
	assertion := signApp(t, app, c)
	for range 3 {
		r := introspectAs(t, s, assertion, tok)
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, true, r.json["active"])
	}
}
