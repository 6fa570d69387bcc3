package serviceusertest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
