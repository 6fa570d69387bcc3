package serviceusertest

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretRequest is a client_credentials request; basicUser and basicPass,
// when set, go in an Authorization: Basic header exactly as given.
type secretRequest struct {
	form                 url.Values
	basicUser, basicPass string
	basic                bool
}

func (sr secretRequest) post(t *testing.T, s *Server) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.TokenURL(), strings.NewReader(sr.form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sr.basic {
		req.SetBasicAuth(sr.basicUser, sr.basicPass)
	}
	return do(t, s, req)
}

func ccForm(extra ...string) url.Values {
	f := url.Values{"grant_type": {GrantTypeClientCredentials}, "scope": {"openid profile"}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

// withBasic authenticates properly: each part form-URL-encoded.
func withBasic(id, secret string) secretRequest {
	return secretRequest{form: ccForm(), basicUser: url.QueryEscape(id), basicPass: url.QueryEscape(secret), basic: true}
}

func withFormSecret(id, secret string) secretRequest {
	return secretRequest{form: ccForm("client_id", id, "client_secret", secret)}
}

func requireInvalidClient(t *testing.T, r response) {
	t.Helper()
	require.Equal(t, http.StatusUnauthorized, r.status, r.raw)
	require.Equal(t, "invalid_client", r.json["error"], r.raw)
}

// requireSecretInvalid checks ZITADEL's answer to a wrong client secret.
func requireSecretInvalid(t *testing.T, r response) {
	t.Helper()
	require.Equal(t, http.StatusBadRequest, r.status, r.raw)
	require.Equal(t, `{"error":"invalid_request","error_description":"Errors.User.Machine.Secret.Invalid"}`, r.raw)
}

func TestClientCredentialsBasicTokenWorksOnUserinfo(t *testing.T) {
	s := newServer(t)
	u, secret := s.NewServiceUserWithSecret()
	assert.Regexp(t, regexp.MustCompile(`^[A-Za-z0-9]{64}$`), secret)
	assert.Empty(t, u.KeyID)
	assert.Nil(t, u.KeyFile)

	r := withBasic(u.Username, secret).post(t, s)
	tok := requireIssued(t, r)
	assert.Equal(t, "Bearer", r.json["token_type"])
	assert.Equal(t, float64(43199), r.json["expires_in"])
	assert.NotContains(t, r.json, "scope")
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))

	info := userinfo(t, s, tok)
	require.Equal(t, http.StatusOK, info.status, info.raw)
	assert.Equal(t, u.UserID, info.json["sub"])
	assert.Equal(t, u.Username, info.json["preferred_username"])
	assert.Equal(t, 1, s.TokenRequests())
	assert.Equal(t, 1, s.IssuedTokens())
	assert.Empty(t, s.Rejections())
}

func TestClientCredentialsFormFields(t *testing.T) {
	s := newServer(t)
	u, secret := s.NewServiceUserWithSecret()
	tok := requireIssued(t, withFormSecret(u.Username, secret).post(t, s))
	assert.Equal(t, http.StatusOK, userinfo(t, s, tok).status)
}

func TestClientCredentialsSecretNeedingEscapes(t *testing.T) {
	s := newServer(t)
	u, _ := s.NewServiceUserWithSecret()
	const secret = "a+b%2Fc:d e&f=g/h"
	s.SetClientSecret(u.Username, secret)

	requireIssued(t, withBasic(u.Username, secret).post(t, s))
	requireIssued(t, withFormSecret(u.Username, secret).post(t, s))

	// The client ID is decoded too: "%2D" is "-".
	escapedID := withBasic(u.Username, secret)
	escapedID.basicUser = strings.ReplaceAll(u.Username, "-", "%2D")
	requireIssued(t, escapedID.post(t, s))

	// Unencoded Basic parts: "+" decodes to a space, "%2F" to "/".
	raw := secretRequest{form: ccForm(), basicUser: u.Username, basicPass: secret, basic: true}
	requireSecretInvalid(t, raw.post(t, s))

	// A "%" that is not an escape cannot be decoded at all.
	bad := secretRequest{form: ccForm(), basicUser: u.Username, basicPass: "100%", basic: true}
	requireInvalidClient(t, bad.post(t, s))
	assert.Equal(t, 3, s.IssuedTokens())
}

func TestClientCredentialsBothMethods(t *testing.T) {
	s := newServer(t)
	u, secret := s.NewServiceUserWithSecret()
	both := withBasic(u.Username, secret)
	both.form = ccForm("client_id", u.Username, "client_secret", secret)
	r := both.post(t, s)
	require.Equal(t, http.StatusBadRequest, r.status, r.raw)
	assert.Equal(t, "invalid_request", r.json["error"])

	other := withBasic(u.Username, secret)
	other.form = ccForm("client_id", "someone-else")
	r = other.post(t, s)
	require.Equal(t, http.StatusBadRequest, r.status, r.raw)
	assert.Equal(t, "invalid_request", r.json["error"])

	same := withBasic(u.Username, secret)
	same.form = ccForm("client_id", u.Username)
	requireIssued(t, same.post(t, s))
}

func TestClientCredentialsRejected(t *testing.T) {
	s := newServer(t)
	u, secret := s.NewServiceUserWithSecret()
	cases := []struct {
		name      string
		req       secretRequest
		challenge string
		wrong     bool // a known client with a wrong secret: ZITADEL's 400
	}{
		{"wrong secret basic", withBasic(u.Username, secret+"x"), "", true},
		{"wrong secret form", withFormSecret(u.Username, "x"+secret), "", true},
		{"unknown client", withBasic("nobody", secret), "Basic", false},
		{"user ID instead of login name", withBasic(u.UserID, secret), "Basic", false},
		{"no credentials", secretRequest{form: ccForm()}, "", false},
		{"client_id only", secretRequest{form: ccForm("client_id", u.Username)}, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.req.post(t, s)
			if c.wrong {
				requireSecretInvalid(t, r)
			} else {
				requireInvalidClient(t, r)
			}
			assert.Equal(t, c.challenge, r.header.Get("WWW-Authenticate"))
			assert.NotContains(t, r.raw, secret)
			assert.ErrorIs(t, lastRejection(t, s), ErrInvalidClient)
		})
	}
	assert.Equal(t, 0, s.IssuedTokens())
	assert.Len(t, s.Rejections(), len(cases))
}

func TestClientCredentialsNeedsScope(t *testing.T) {
	s := newServer(t)
	u, secret := s.NewServiceUserWithSecret()
	for _, scope := range []string{"", "   "} {
		req := withBasic(u.Username, secret)
		req.form.Set("scope", scope)
		r := req.post(t, s)
		require.Equal(t, http.StatusBadRequest, r.status, r.raw)
		assert.Equal(t, "invalid_request", r.json["error"])
		assert.Equal(t, scopeMissing, r.json["error_description"])
	}
	assert.Equal(t, 0, s.IssuedTokens())
}

func TestClientCredentialsKnobs(t *testing.T) {
	s := newServer(t)
	u, secret := s.NewServiceUserWithSecret()
	s.SetTokenLifetime(time.Minute)
	s.FailNext(1, Fault{Status: http.StatusServiceUnavailable, NoBody: true})

	r := withBasic(u.Username, secret).post(t, s)
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	r = withBasic(u.Username, secret).post(t, s)
	requireIssued(t, r)
	assert.Equal(t, float64(60), r.json["expires_in"])
	assert.Equal(t, 2, s.TokenRequests())
	assert.Equal(t, 1, s.IssuedTokens())
}

func TestZitadelWrongSecret(t *testing.T) {
	s := newServer(t)
	u, secret := s.NewServiceUserWithSecret()
	for _, req := range []secretRequest{withBasic(u.Username, secret+"x"), withFormSecret(u.Username, "x")} {
		r := req.post(t, s)
		require.Equal(t, http.StatusBadRequest, r.status)
		assert.Equal(t, `{"error":"invalid_request","error_description":"Errors.User.Machine.Secret.Invalid"}`, r.raw)
		assert.Empty(t, r.header.Get("WWW-Authenticate"))
		assert.ErrorIs(t, lastRejection(t, s), ErrInvalidClient)
	}
}

func TestSetClientSecret(t *testing.T) {
	s := newServer(t)
	u, old := s.NewServiceUserWithSecret()
	tok := requireIssued(t, withBasic(u.Username, old).post(t, s))
	s.SetClientSecret(u.Username, "new")
	requireSecretInvalid(t, withBasic(u.Username, old).post(t, s))
	requireIssued(t, withBasic(u.Username, "new").post(t, s))
	assert.Equal(t, http.StatusOK, userinfo(t, s, tok).status, "earlier tokens stay valid")
	assert.Panics(t, func() { s.SetClientSecret("nobody", "x") })
}

func TestKeyUserHasNoSecret(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	r := withBasic(u.Username, "").post(t, s)
	requireInvalidClient(t, r)
	assert.True(t, errors.Is(lastRejection(t, s), ErrInvalidClient))
}

func TestPersonalAccessToken(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	pat := s.NewPersonalAccessToken(u.UserID, time.Time{})
	info := userinfo(t, s, pat)
	require.Equal(t, http.StatusOK, info.status, info.raw)
	assert.Equal(t, u.UserID, info.json["sub"])
	assert.Equal(t, 0, s.IssuedTokens(), "a PAT is not a token request")

	s.RevokeToken(pat)
	info = userinfo(t, s, pat)
	require.Equal(t, http.StatusUnauthorized, info.status, info.raw)
	assert.Equal(t, "access_denied", info.json["error"])
}

func TestPersonalAccessTokenExpiry(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		now := time.Now()
		u, _ := s.NewServiceUserWithSecret()
		pat := s.NewPersonalAccessToken(u.UserID, now.Add(time.Hour))
		forever := s.NewPersonalAccessToken(u.UserID, time.Time{})
		require.Equal(t, http.StatusOK, userinfo(t, s, pat).status)

		sleepUntil(t, now.Add(time.Hour))
		assert.Equal(t, http.StatusUnauthorized, userinfo(t, s, pat).status)
		sleepUntil(t, now.AddDate(100, 0, 0))
		assert.Equal(t, http.StatusOK, userinfo(t, s, forever).status)
		assert.Panics(t, func() { s.NewPersonalAccessToken("nobody", time.Time{}) })
	})
}
