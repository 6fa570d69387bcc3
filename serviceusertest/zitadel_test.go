package serviceusertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests in this file pin, row by row, the answers measured on a real
// ZITADEL v4.13.1: status, content type, body and headers.

const internalBody = `{"error":"server_error","error_description":"Errors.Internal"}`

// stopClock sets the server clock to t and keeps it there.
func stopClock(s *Server, t time.Time) { s.SetNow(func() time.Time { return t }) }

// fields returns the sorted member names of a JSON object.
func fields(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

func grantWithScope(t *testing.T, s *Server, u *ServiceUser, now time.Time, scope string) response {
	t.Helper()
	return postForm(t, s, url.Values{
		"grant_type": {GrantTypeJWTBearer},
		"assertion":  {signAs(t, u, claimsFor(s, u, now))},
		"scope":      {scope},
	})
}

func TestZitadelTokenResponse(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	r := grantWithScope(t, s, u, time.Now(), "openid")
	tok := requireIssued(t, r)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Equal(t, []string{"access_token", "expires_in", "id_token", "token_type"}, fields(r.json), "no scope member")
	assert.Len(t, tok, 86)
	assert.Equal(t, "Bearer", r.json["token_type"])
	assert.Equal(t, float64(43199), r.json["expires_in"])

	claims := verifyIDToken(t, s, r.json["id_token"].(string))
	assert.Equal(t, s.Issuer(), claims["iss"])
	assert.Equal(t, u.UserID, claims["sub"])
	assert.Equal(t, []any{u.Username}, claims["aud"])
	assert.Equal(t, leftHalfHash(tok), claims["at_hash"])
	assert.NotContains(t, claims, "name", "name needs the profile scope")

	noOpenID := grantWithScope(t, s, u, time.Now(), "profile")
	requireIssued(t, noOpenID)
	assert.NotContains(t, noOpenID.json, "id_token", "an ID token only with openid")
}

// verifyIDToken checks idToken's signature with the server's published key
// and returns its claims.
func verifyIDToken(t *testing.T, s *Server, idToken string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.Issuer()+keysPath, nil)
	require.NoError(t, err)
	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal([]byte(do(t, s, req).raw), &set))
	require.Len(t, set.Keys, 1)
	jws, err := jose.ParseSigned(idToken, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	require.Equal(t, set.Keys[0].KeyID, jws.Signatures[0].Header.KeyID)
	payload, err := jws.Verify(set.Keys[0].Key)
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	return claims
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

func TestZitadelDeactivatedUser(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	cc, secret := s.NewServiceUserWithSecret()
	s.DeactivateUser(u.UserID)
	s.DeactivateUser(cc.UserID)
	const want = `{"error":"invalid_request","error_description":"Errors.User.NotActive"}`
	for _, legacy := range []bool{false, true} {
		s.SetLegacyErrors(legacy)
		r := grant(t, s, signAs(t, u, claimsFor(s, u, time.Now())))
		require.Equal(t, http.StatusBadRequest, r.status)
		assert.Equal(t, want, r.raw)
		assert.ErrorIs(t, lastRejection(t, s), ErrUserNotActive)

		r = withBasic(cc.Username, secret).post(t, s)
		require.Equal(t, http.StatusBadRequest, r.status)
		assert.Equal(t, want, r.raw)
	}
	// A bad assertion is still refused as such.
	s.SetLegacyErrors(false)
	c := claimsFor(s, u, time.Now())
	c["aud"] = "elsewhere"
	requireInternal(t, grant(t, s, signAs(t, u, c)))
	assert.Panics(t, func() { s.DeactivateUser("nobody") })
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

func TestZitadelFreshSecret(t *testing.T) {
	s := newServer(t)
	t0 := time.Now()
	stopClock(s, t0)
	s.SetProjectionDelay(20 * time.Millisecond)
	u, secret := s.NewServiceUserWithSecret()
	const notExisting = `{"error":"invalid_request","error_description":"Errors.User.Machine.Secret.NotExisting"}`
	for _, at := range []time.Duration{0, 19 * time.Millisecond} {
		stopClock(s, t0.Add(at))
		r := withBasic(u.Username, secret).post(t, s)
		require.Equal(t, http.StatusBadRequest, r.status)
		assert.Equal(t, notExisting, r.raw)
		assert.ErrorIs(t, lastRejection(t, s), ErrNotProjected)
	}
	stopClock(s, t0.Add(20*time.Millisecond))
	requireIssued(t, withBasic(u.Username, secret).post(t, s))

	// Replaced: the old secret works and the new one is refused until the
	// change is projected.
	t1 := t0.Add(time.Second)
	stopClock(s, t1)
	s.SetClientSecret(u.Username, "new-secret")
	requireIssued(t, withBasic(u.Username, secret).post(t, s))
	r := withBasic(u.Username, "new-secret").post(t, s)
	assert.Equal(t, `{"error":"invalid_request","error_description":"Errors.User.Machine.Secret.Invalid"}`, r.raw)
	stopClock(s, t1.Add(20*time.Millisecond))
	requireIssued(t, withBasic(u.Username, "new-secret").post(t, s))
	assert.Equal(t, http.StatusBadRequest, withBasic(u.Username, secret).post(t, s).status)
}

// hostRequest sends a GET for path to the listener with the given Host and
// instance host headers.
func hostRequest(t *testing.T, s *Server, path, host, instanceHost string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+s.ListenerHost()+path, nil)
	require.NoError(t, err)
	req.Host = host
	if instanceHost != "" {
		req.Header.Set(InstanceHostHeader, instanceHost)
	}
	return do(t, s, req)
}

func TestZitadelUnknownHost(t *testing.T) {
	s := newServer(t)
	assert.Equal(t, "http://"+s.ListenerHost(), s.Issuer(), "by default the instance serves its listener's host")
	_, port, _ := strings.Cut(s.ListenerHost(), ":")
	domain := "localhost:" + port
	s.SetInstanceDomain(domain)
	assert.Equal(t, "http://"+domain, s.Issuer())

	r := hostRequest(t, s, discoveryPath, s.ListenerHost(), "")
	require.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "text/plain; charset=utf-8", r.header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(r.raw, "unable to set instance using origin &{"+s.ListenerHost()+"  http} (ExternalDomain is localhost): "), r.raw)
	assert.Contains(t, r.raw, "Instance not found. Make sure you got the domain right. Check out https://zitadel.com/docs/apis/introduction#domains")

	r = hostRequest(t, s, discoveryPath, s.ListenerHost(), domain)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "http://"+domain, r.json["issuer"])
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "introspection_endpoint", "userinfo_endpoint", "revocation_endpoint", "jwks_uri"} {
		assert.True(t, strings.HasPrefix(r.json[k].(string), "http://"+domain+"/"), "%s: %v", k, r.json[k])
	}
	assert.Equal(t, http.StatusNotFound, hostRequest(t, s, discoveryPath, domain, "127.0.0.1:1").status, "the header wins over Host")
	assert.Equal(t, http.StatusOK, hostRequest(t, s, discoveryPath, domain, "").status)

	// A grant through the listener with the header; aud names the domain.
	u := s.NewServiceUser()
	form := url.Values{"grant_type": {GrantTypeJWTBearer}, "assertion": {signAs(t, u, claimsFor(s, u, time.Now()))}, "scope": {"openid"}}
	req, err := http.NewRequest(http.MethodPost, "http://"+s.ListenerHost()+tokenPath, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(InstanceHostHeader, domain)
	requireIssued(t, do(t, s, req))
	assert.Equal(t, 1, s.TokenRequests(), "refused hosts never reach the endpoints")

	s.SetInstanceDomain("")
	assert.Equal(t, http.StatusOK, hostRequest(t, s, discoveryPath, s.ListenerHost(), "").status)
}

func TestZitadelUserinfoErrors(t *testing.T) {
	s := newServer(t)
	for token, want := range map[string]string{
		"made-up": `{"error":"access_denied","error_description":"access token invalid"}`,
		"":        `{"error":"invalid_request","error_description":"access token missing"}`,
	} {
		r := userinfo(t, s, token)
		require.Equal(t, http.StatusUnauthorized, r.status)
		assert.Equal(t, want, r.raw)
		assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		assert.NotContains(t, r.header, "Www-Authenticate")
	}
}

func TestZitadelUserinfoClaimsByScope(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	cases := map[string][]string{
		"openid":               {"sub"},
		"openid profile":       {"name", "preferred_username", "sub"},
		"openid email":         {"email", "sub"},
		"openid profile email": {"email", "name", "preferred_username", "sub"},
	}
	for scope, want := range cases {
		tok := requireIssued(t, grantWithScope(t, s, u, time.Now(), scope))
		r := userinfo(t, s, tok)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, want, fields(r.json), scope)
		assert.Equal(t, u.UserID, r.json["sub"])
	}
	r := userinfo(t, s, requireIssued(t, grantWithScope(t, s, u, time.Now(), "openid profile")))
	assert.Equal(t, u.Username, r.json["preferred_username"])
}

func managementGet(t *testing.T, s *Server, path, token, orgID string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.ManagementURL()+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if orgID != "" {
		req.Header.Set(OrgIDHeader, orgID)
	}
	return do(t, s, req)
}

func requireTokenInvalid(t *testing.T, r response) {
	t.Helper()
	require.Equal(t, http.StatusUnauthorized, r.status, r.raw)
	assert.Equal(t, "Errors.Token.Invalid (AUTH-7fs1e)", r.header.Get("Www-Authenticate"))
	assert.Equal(t, float64(16), r.json["code"])
	assert.Equal(t, "Errors.Token.Invalid (AUTH-7fs1e)", r.json["message"])
}

func TestZitadelManagementAPI(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	requireTokenInvalid(t, managementGet(t, s, "/orgs/me", "made-up", ""))
	noAud := requireIssued(t, grantWithScope(t, s, u, time.Now(), "openid"))
	requireTokenInvalid(t, managementGet(t, s, "/orgs/me", noAud, ""))
	r := managementGet(t, s, "/orgs/me", "", "")
	require.Equal(t, http.StatusUnauthorized, r.status)
	assert.JSONEq(t, `{"code":16,"message":"auth header missing"}`, r.raw)

	tok := requireIssued(t, grantWithScope(t, s, u, time.Now(), "openid "+ScopeZitadelAPI))
	r = managementGet(t, s, "/orgs/me", tok, "")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	org := r.json["org"].(map[string]any)
	assert.Equal(t, u.OrgID, org["id"])
	assert.Equal(t, "ZITADEL", org["name"])
	assert.Equal(t, "ORG_STATE_ACTIVE", org["state"])

	other := s.NewOrganization("Other Org")
	r = managementGet(t, s, "/orgs/me", tok, other)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, other, r.json["org"].(map[string]any)["id"])
	assert.Equal(t, "Other Org", r.json["org"].(map[string]any)["name"])

	assert.Equal(t, http.StatusNotFound, managementGet(t, s, "/orgs/me", tok, "42").status)
	assert.Equal(t, http.StatusNotFound, managementGet(t, s, "/users/_nope", tok, "").status)
}

func TestZitadelIntrospectionNeedsProjectAudience(t *testing.T) {
	s := newServer(t)
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	stopClock(s, now)
	u, app := s.NewServiceUser(), s.NewApplication()
	without := requireIssued(t, grantWithScope(t, s, u, now, "openid"))
	assert.Equal(t, `{"active":false}`, introspectOK(t, s, app, now, without).raw)
	otherApp := s.NewApplication()
	forOther := requireIssued(t, grantWithScope(t, s, u, now, "openid "+otherApp.AudienceScope()))
	assert.Equal(t, `{"active":false}`, introspectOK(t, s, app, now, forOther).raw)

	scope := "openid " + app.AudienceScope()
	with := requireIssued(t, grantWithScope(t, s, u, now, scope))
	r := introspectOK(t, s, app, now, with)
	assert.Equal(t, []string{"active", "aud", "auth_time", "client_id", "exp", "iat", "iss", "scope", "sub", "token_type", "username"}, fields(r.json))
	assert.Equal(t, true, r.json["active"])
	assert.Equal(t, scope, r.json["scope"])
	assert.Equal(t, u.Username, r.json["client_id"], "the machine user's login name")
	assert.Equal(t, "Bearer", r.json["token_type"])
	assert.Equal(t, float64(now.Add(DefaultTokenLifetime).Unix()), r.json["exp"])
	assert.Equal(t, float64(now.Unix()), r.json["iat"])
	assert.Equal(t, float64(now.Unix()), r.json["auth_time"])
	assert.Equal(t, u.UserID, r.json["sub"])
	assert.Equal(t, u.Username, r.json["username"])
	assert.Equal(t, []any{app.ProjectID, app.ClientID}, r.json["aud"])
}

// TestZitadelAudienceNeedsTheFullScope: only the full scope
// "urn:zitadel:iam:org:project:id:{projectId}:aud" puts a project into the
// audience; "{projectId}:aud" and other scopes ending in ":aud" do not, as
// in ZITADEL, so a test passing against the fake does not fail against it.
func TestZitadelAudienceNeedsTheFullScope(t *testing.T) {
	s := newServer(t)
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	stopClock(s, now)
	u, app := s.NewServiceUser(), s.NewApplication()
	for _, scope := range []string{app.ProjectID + ":aud", "urn:zitadel:iam:org:id:" + app.ProjectID + ":aud",
		"urn:zitadel:iam:org:project:" + app.ProjectID + ":aud", "urn:zitadel:iam:org:project:id::aud"} {
		tok := requireIssued(t, grantWithScope(t, s, u, now, "openid "+scope))
		assert.Equal(t, `{"active":false}`, introspectOK(t, s, app, now, tok).raw, scope)
	}
	tok := requireIssued(t, grantWithScope(t, s, u, now, "openid "+app.AudienceScope()))
	assert.Equal(t, true, introspectOK(t, s, app, now, tok).json["active"], app.AudienceScope())
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

func TestZitadelDeletedPAT(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	pat := s.NewPersonalAccessToken(u.UserID, time.Time{})
	require.Equal(t, http.StatusOK, managementGet(t, s, "/orgs/me", pat, "").status)
	require.Equal(t, http.StatusOK, userinfo(t, s, pat).status)
	s.RevokeToken(pat)
	requireTokenInvalid(t, managementGet(t, s, "/orgs/me", pat, ""))
	assert.Equal(t, http.StatusUnauthorized, userinfo(t, s, pat).status)
}

func TestZitadelShortTokenLifetime(t *testing.T) {
	s := newServer(t)
	now := time.Now()
	stopClock(s, now)
	u := s.NewServiceUser()
	s.SetTokenLifetime(30 * time.Second)
	r := grantWithScope(t, s, u, now, "openid")
	tok := requireIssued(t, r)
	assert.Equal(t, float64(30), r.json["expires_in"])
	stopClock(s, now.Add(29*time.Second))
	assert.Equal(t, http.StatusOK, userinfo(t, s, tok).status)
	stopClock(s, now.Add(30*time.Second))
	assert.Equal(t, http.StatusUnauthorized, userinfo(t, s, tok).status)
}

func TestZitadelMakesRSAKeysOnly(t *testing.T) {
	s := newServer(t)
	for _, kf := range [][]byte{s.NewServiceUser().KeyFile, s.NewApplication().KeyFile} {
		var f struct{ Key string }
		require.NoError(t, json.Unmarshal(kf, &f))
		block, _ := pem.Decode([]byte(f.Key))
		require.NotNil(t, block)
		assert.Equal(t, "RSA PRIVATE KEY", block.Type)
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		require.NoError(t, err)
		assert.Equal(t, 2048, key.N.BitLen())
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	u := s.NewServiceUser()
	assert.PanicsWithValue(t, "serviceusertest: ZITADEL makes RSA keys only; start the server WithECKeys() to mint KeyEC",
		func() { s.NewServiceUserWithKey(KeyEC) })
	assert.Panics(t, func() { s.AddKey(u.UserID, &ec.PublicKey) })
	assert.NotPanics(t, func() { s.AddKey(u.UserID, u.PrivateKey.Public().(*rsa.PublicKey)) })

	withEC := NewServer(WithECKeys())
	defer withEC.Close()
	ecUser := withEC.NewServiceUserWithKey(KeyEC)
	requireIssued(t, grant(t, withEC, signAs(t, ecUser, claimsFor(withEC, ecUser, time.Now()))))
	withEC.AddKey(ecUser.UserID, &ec.PublicKey)
}

func TestProjectionDelayServiceUserKey(t *testing.T) {
	s := newServer(t)
	t0 := time.Now()
	stopClock(s, t0)
	s.SetProjectionDelay(20 * time.Millisecond)
	u := s.NewServiceUser()
	assertion := signAs(t, u, claimsFor(s, u, t0))

	stopClock(s, t0.Add(19*time.Millisecond))
	requireInternal(t, grant(t, s, assertion))
	assert.ErrorIs(t, lastRejection(t, s), ErrNotProjected)
	assert.ErrorIs(t, lastRejection(t, s), ErrKeyNotFound)
	stopClock(s, t0.Add(20*time.Millisecond))
	requireIssued(t, grant(t, s, assertion))

	t1 := t0.Add(time.Second)
	stopClock(s, t1)
	s.RevokeKey(u.KeyID)
	stopClock(s, t1.Add(19*time.Millisecond))
	requireIssued(t, grant(t, s, assertion))
	stopClock(s, t1.Add(20*time.Millisecond))
	requireInternal(t, grant(t, s, assertion))
	assert.ErrorIs(t, lastRejection(t, s), ErrKeyRevoked)
}

// TestUserProjectionLag: a brand-new user's key is refused with 500
// Errors.Internal while the key is not projected, then with 404
// invalid_request Errors.User.NotFound while the user is not; a key added to
// a user made long ago gets the 500 only.
func TestUserProjectionLag(t *testing.T) {
	s := newServer(t)
	t0 := time.Now()
	stopClock(s, t0)
	s.SetProjectionDelay(20 * time.Millisecond)
	s.SetUserProjectionLag(10 * time.Millisecond)
	u := s.NewServiceUser()
	assertion := signAs(t, u, claimsFor(s, u, t0))
	const notFound = `{"error":"invalid_request","error_description":"Errors.User.NotFound"}`

	stopClock(s, t0.Add(19*time.Millisecond))
	requireInternal(t, grant(t, s, assertion))
	assert.ErrorIs(t, lastRejection(t, s), ErrKeyNotFound)
	for _, at := range []time.Duration{20 * time.Millisecond, 29 * time.Millisecond} {
		stopClock(s, t0.Add(at))
		r := grant(t, s, assertion)
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
		assert.Equal(t, notFound, r.raw)
		assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		assert.ErrorIs(t, lastRejection(t, s), ErrUserNotFound)
		assert.ErrorIs(t, lastRejection(t, s), ErrNotProjected)
	}
	stopClock(s, t0.Add(30*time.Millisecond))
	requireIssued(t, grant(t, s, assertion))

	// A new key of that user, now visible: only the key lags.
	t1 := t0.Add(time.Second)
	stopClock(s, t1)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	keyID := s.AddKey(u.UserID, key.Public())
	withNewKey := *u
	withNewKey.KeyID, withNewKey.PrivateKey = keyID, key
	assertion = signAs(t, &withNewKey, claimsFor(s, &withNewKey, t1))
	for _, at := range []time.Duration{0, 19 * time.Millisecond} {
		stopClock(s, t1.Add(at))
		requireInternal(t, grant(t, s, assertion))
	}
	stopClock(s, t1.Add(20*time.Millisecond))
	requireIssued(t, grant(t, s, assertion))
}

func TestProjectionDelayPAT(t *testing.T) {
	s := newServer(t)
	t0 := time.Now()
	stopClock(s, t0)
	s.SetProjectionDelay(20 * time.Millisecond)
	u := s.NewServiceUser()
	pat := s.NewPersonalAccessToken(u.UserID, time.Time{})

	stopClock(s, t0.Add(19*time.Millisecond))
	assert.Equal(t, http.StatusUnauthorized, userinfo(t, s, pat).status)
	requireTokenInvalid(t, managementGet(t, s, "/orgs/me", pat, ""))
	stopClock(s, t0.Add(20*time.Millisecond))
	assert.Equal(t, http.StatusOK, userinfo(t, s, pat).status)

	t1 := t0.Add(time.Second)
	stopClock(s, t1)
	s.RevokeToken(pat)
	stopClock(s, t1.Add(19*time.Millisecond))
	assert.Equal(t, http.StatusOK, managementGet(t, s, "/orgs/me", pat, "").status)
	stopClock(s, t1.Add(20*time.Millisecond))
	requireTokenInvalid(t, managementGet(t, s, "/orgs/me", pat, ""))

	// Access tokens from the token endpoint are not delayed.
	tok := requireIssued(t, grant(t, s, signAs(t, u, claimsFor(s, u, t1))))
	assert.Equal(t, http.StatusOK, userinfo(t, s, tok).status)
	s.RevokeToken(tok)
	assert.Equal(t, http.StatusUnauthorized, userinfo(t, s, tok).status)
}

func TestProjectionDelayApplicationKey(t *testing.T) {
	s := newServer(t)
	t0 := time.Now()
	stopClock(s, t0.Add(-time.Second))
	s.SetProjectionDelay(20 * time.Millisecond)
	u := s.NewServiceUser()
	stopClock(s, t0)
	app := s.NewApplication()
	tok := requireIssued(t, grantWithScope(t, s, u, t0, "openid "+app.AudienceScope()))
	assertion := signApp(t, app, appClaims(s, app, t0))
	active := func() any { return introspectAs(t, s, assertion, tok).json["active"] }

	stopClock(s, t0.Add(19*time.Millisecond))
	assert.Equal(t, false, active())
	stopClock(s, t0.Add(20*time.Millisecond))
	assert.Equal(t, true, active())

	t1 := t0.Add(time.Second)
	stopClock(s, t1)
	s.RevokeKey(app.KeyID)
	stopClock(s, t1.Add(19*time.Millisecond))
	assert.Equal(t, true, active())
	stopClock(s, t1.Add(20*time.Millisecond))
	assert.Equal(t, false, active())
}
