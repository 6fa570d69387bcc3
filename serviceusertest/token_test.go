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

func postForm(t *testing.T, s *Server, form url.Values) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.TokenURL(), strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, s, req)
}

func grant(t *testing.T, s *Server, assertion string) response {
	t.Helper()
	return postForm(t, s, url.Values{
		"grant_type": {GrantTypeJWTBearer},
		"assertion":  {assertion},
		"scope":      {"openid profile"},
	})
}

func grantWithScope(t *testing.T, s *Server, u *ServiceUser, now time.Time, scope string) response {
	t.Helper()
	return postForm(t, s, url.Values{
		"grant_type": {GrantTypeJWTBearer},
		"assertion":  {signAs(t, u, claimsFor(s, u, now))},
		"scope":      {scope},
	})
}

func requireIssued(t *testing.T, r response) string {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, r.raw)
	tok, _ := r.json["access_token"].(string)
	require.NotEmpty(t, tok)
	return tok
}

const internalBody = `{"error":"server_error","error_description":"Errors.Internal"}`

func requireInternal(t *testing.T, r response) {
	t.Helper()
	require.Equal(t, http.StatusInternalServerError, r.status, r.raw)
	require.Equal(t, `{"error":"server_error","error_description":"Errors.Internal"}`, r.raw)
}

func lastRejection(t *testing.T, s *Server) error {
	t.Helper()
	rej := s.Rejections()
	require.NotEmpty(t, rej)
	return rej[len(rej)-1]
}

func TestGoodAssertionTokenWorksOnUserinfo(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()

	r := grant(t, s, signAs(t, u, claimsFor(s, u, time.Now())))
	tok := requireIssued(t, r)
	assert.Equal(t, "Bearer", r.json["token_type"])
	assert.Equal(t, float64(43199), r.json["expires_in"])
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))

	info := userinfo(t, s, tok)
	require.Equal(t, http.StatusOK, info.status, info.raw)
	assert.Equal(t, u.UserID, info.json["sub"])
	assert.Equal(t, u.Username, info.json["preferred_username"])
	assert.NotEmpty(t, info.json["name"])
	assert.Empty(t, s.Rejections())
}

func TestGrantTypeAndForm(t *testing.T) {
	s := newServer(t)
	cases := []struct {
		name      string
		grantType string
		wantErr   string
	}{
		{"client assertion URN", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "unsupported_grant_type"},
		{"password", "password", "unsupported_grant_type"},
		{"case differs", "URN:ietf:params:oauth:grant-type:jwt-bearer", "unsupported_grant_type"},
		{"missing", "", "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := postForm(t, s, url.Values{"grant_type": {c.grantType}, "assertion": {"a.b.c"}, "scope": {"openid"}})
			require.Equal(t, http.StatusBadRequest, r.status, r.raw)
			require.Equal(t, c.wantErr, r.json["error"])
		})
	}
}

func TestMissingFields(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	good := signAs(t, u, claimsFor(s, u, time.Now()))
	cases := map[string]url.Values{
		"no scope":     {"grant_type": {GrantTypeJWTBearer}, "assertion": {good}},
		"blank scope":  {"grant_type": {GrantTypeJWTBearer}, "assertion": {good}, "scope": {"  "}},
		"no assertion": {"grant_type": {GrantTypeJWTBearer}, "scope": {"openid"}},
	}
	for name, form := range cases {
		t.Run(name, func(t *testing.T) {
			r := postForm(t, s, form)
			require.Equal(t, http.StatusBadRequest, r.status, r.raw)
			require.Equal(t, "invalid_request", r.json["error"])
		})
	}
	assert.Equal(t, 0, s.IssuedTokens())
	assert.Len(t, s.Rejections(), 3)
}

func TestMethodAndContentType(t *testing.T) {
	s := newServer(t)
	get, err := http.NewRequest(http.MethodGet, s.TokenURL()+"?grant_type="+url.QueryEscape(GrantTypeJWTBearer), nil)
	require.NoError(t, err)
	r := do(t, s, get)
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, "invalid_request", r.json["error"])

	js, err := http.NewRequest(http.MethodPost, s.TokenURL(), strings.NewReader(`{"grant_type":"x"}`))
	require.NoError(t, err)
	js.Header.Set("Content-Type", "application/json")
	r = do(t, s, js)
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, "invalid_request", r.json["error"])
}

func TestTokenLifetime(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		u := s.NewServiceUser()
		base := time.Now()
		assertion := signAs(t, u, claimsFor(s, u, base))

		s.SetTokenLifetime(0)
		r := grant(t, s, assertion)
		requireIssued(t, r)
		require.NotContains(t, r.raw, "expires_in")
		require.NotContains(t, r.json, "expires_in")

		s.SetTokenLifetime(90 * time.Second)
		r = grant(t, s, assertion)
		tok := requireIssued(t, r)
		require.Equal(t, float64(90), r.json["expires_in"])
		require.Equal(t, http.StatusOK, userinfo(t, s, tok).status)

		sleepUntil(t, base.Add(91*time.Second))
		require.Equal(t, http.StatusUnauthorized, userinfo(t, s, tok).status)
	})
}

func TestZitadelClientAssertionURNIsNoGrantType(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	r := postForm(t, s, url.Values{
		"grant_type": {ClientAssertionType},
		"assertion":  {signAs(t, u, claimsFor(s, u, time.Now()))},
		"scope":      {"openid"},
	})
	require.Equal(t, http.StatusBadRequest, r.status)
	assert.JSONEq(t, `{"error":"unsupported_grant_type","error_description":"urn:ietf:params:oauth:client-assertion-type:jwt-bearer not supported"}`, r.raw)
}

func TestZitadelNoScope(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	r := grantWithScope(t, s, u, time.Now(), "")
	require.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "invalid_request", r.json["error"])
	assert.True(t, strings.HasPrefix(r.json["error_description"].(string),
		"The scope of your request is missing. Please ensure some scopes are requested."), r.raw)
}

func TestZitadelBadAssertionsAreInternal(t *testing.T) {
	s := newServer(t)
	a, b, deleted := s.NewServiceUser(), s.NewServiceUser(), s.NewServiceUser()
	s.RevokeKey(deleted.KeyID)
	now := time.Now()
	with := func(k string, v any) map[string]any {
		c := claimsFor(s, a, now)
		c[k] = v
		return c
	}
	asB := claimsFor(s, b, now)
	cases := map[string]string{
		"garbage":           "not-a-jwt",
		"wrong aud":         signAs(t, a, with("aud", s.Issuer()+"/")),
		"expired":           signAs(t, a, with("exp", now.Add(-time.Minute).Unix())),
		"iat in the future": signAs(t, a, with("iat", now.Add(time.Minute).Unix())),
		"iat too old":       signAs(t, a, with("iat", now.Add(-2*time.Hour).Unix())),
		"unknown key":       sign(t, a.PrivateKey, jose.RS256, "100000000000000001", claimsFor(s, a, now)),
		"deleted key":       signAs(t, deleted, claimsFor(s, deleted, now)),
		"iss != sub":        signAs(t, a, with("sub", b.UserID)),
		"key of A for B":    sign(t, a.PrivateKey, jose.RS256, a.KeyID, asB),
	}
	for name, assertion := range cases {
		t.Run(name, func(t *testing.T) {
			r := grant(t, s, assertion)
			require.Equal(t, http.StatusInternalServerError, r.status)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Equal(t, internalBody, r.raw)
		})
	}
	assert.Zero(t, s.IssuedTokens(), "no token for B either")
}

func TestZitadelShortTokenLifetime(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		now := time.Now()
		u := s.NewServiceUser()
		s.SetTokenLifetime(30 * time.Second)
		r := grantWithScope(t, s, u, now, "openid")
		tok := requireIssued(t, r)
		assert.Equal(t, float64(30), r.json["expires_in"])
		sleepUntil(t, now.Add(29*time.Second))
		assert.Equal(t, http.StatusOK, userinfo(t, s, tok).status)
		sleepUntil(t, now.Add(30*time.Second))
		assert.Equal(t, http.StatusUnauthorized, userinfo(t, s, tok).status)
	})
}

// TestZitadelAudienceNeedsTheFullScope: only the full scope
// "urn:zitadel:iam:org:project:id:{projectId}:aud" puts a project into the
// audience; "{projectId}:aud" and other scopes ending in ":aud" do not, as
// in ZITADEL, so a test passing against the fake does not fail against it.
func TestZitadelAudienceNeedsTheFullScope(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		now := time.Now()
		u, app := s.NewServiceUser(), s.NewApplication()
		for _, scope := range []string{app.ProjectID + ":aud", "urn:zitadel:iam:org:id:" + app.ProjectID + ":aud",
			"urn:zitadel:iam:org:project:" + app.ProjectID + ":aud", "urn:zitadel:iam:org:project:id::aud"} {
			tok := requireIssued(t, grantWithScope(t, s, u, now, "openid "+scope))
			assert.Equal(t, `{"active":false}`, introspectOK(t, s, app, now, tok).raw, scope)
		}
		tok := requireIssued(t, grantWithScope(t, s, u, now, "openid "+app.AudienceScope()))
		assert.Equal(t, true, introspectOK(t, s, app, now, tok).json["active"], app.AudienceScope())
	})
}
