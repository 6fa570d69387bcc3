package serviceusertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// claimsFor returns valid assertion claims for u at time now.
func claimsFor(s *Server, u *ServiceUser, now time.Time) map[string]any {
	return map[string]any{
		"iss": u.UserID,
		"sub": u.UserID,
		"aud": s.Issuer(),
		"iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
}

func sign(t *testing.T, key any, alg jose.SignatureAlgorithm, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	require.NoError(t, err)
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	jws, err := signer.Sign(payload)
	require.NoError(t, err)
	out, err := jws.CompactSerialize()
	require.NoError(t, err)
	return out
}

// signAs signs claims with u's own key in its natural algorithm.
func signAs(t *testing.T, u *ServiceUser, claims map[string]any) string {
	alg := jose.RS256
	if _, ok := u.PrivateKey.(*ecdsa.PrivateKey); ok {
		alg = jose.ES256
	}
	return sign(t, u.PrivateKey, alg, u.KeyID, claims)
}

type response struct {
	status int
	header http.Header
	raw    string
	json   map[string]any
}

func do(t *testing.T, s *Server, req *http.Request) response {
	t.Helper()
	res, err := s.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	r := response{status: res.StatusCode, header: res.Header, raw: string(b)}
	_ = json.Unmarshal(b, &r.json)
	return r
}

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

func userinfo(t *testing.T, s *Server, token string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.UserinfoURL(), nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, s, req)
}

func requireIssued(t *testing.T, r response) string {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, r.raw)
	tok, _ := r.json["access_token"].(string)
	require.NotEmpty(t, tok)
	return tok
}

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

func TestKeyFileLayout(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	require.True(t, strings.HasPrefix(string(u.KeyFile), `{"type":"serviceaccount","keyId":"`+u.KeyID+`","key":"-----BEGIN RSA PRIVATE KEY-----\n`), string(u.KeyFile))
	require.True(t, strings.HasSuffix(string(u.KeyFile), `-----END RSA PRIVATE KEY-----\n","expirationDate":"9999-12-31T23:59:59Z","userId":"`+u.UserID+`"}`), string(u.KeyFile))

	ids := map[string]bool{}
	numeric := regexp.MustCompile(`^[1-9][0-9]{17}$`)
	for _, id := range []string{u.UserID, u.KeyID, s.AddKey(u.UserID, u.PrivateKey.Public())} {
		assert.Regexp(t, numeric, id)
		assert.False(t, ids[id], "duplicate ID %s", id)
		ids[id] = true
	}
}

func TestKeyKinds(t *testing.T) {
	s := newServer(t, WithECKeys())
	cases := []struct {
		kind KeyKind
		pem  string
		alg  jose.SignatureAlgorithm
	}{
		{KeyRSA, "RSA PRIVATE KEY", jose.RS256},
		{KeyRSAPKCS8, "PRIVATE KEY", jose.RS256},
		{KeyRSAPKCS8, "PRIVATE KEY", jose.PS256},
		{KeyEC, "PRIVATE KEY", jose.ES256},
	}
	for _, c := range cases {
		t.Run(c.kind.String()+"/"+string(c.alg), func(t *testing.T) {
			u := s.NewServiceUserWithKey(c.kind)
			var kf struct{ Key string }
			require.NoError(t, json.Unmarshal(u.KeyFile, &kf))
			require.True(t, strings.HasPrefix(kf.Key, "-----BEGIN "+c.pem+"-----\n"), kf.Key)
			requireIssued(t, grant(t, s, sign(t, u.PrivateKey, c.alg, u.KeyID, claimsFor(s, u, time.Now()))))
		})
	}
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

func TestAssertionChecks(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	other := s.NewServiceUser()
	now := time.Now()
	iss := s.Issuer()

	with := func(k string, v any) map[string]any {
		c := claimsFor(s, u, now)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	hmacKey := make([]byte, 32)
	_, _ = rand.Read(hmacKey)
	tampered := func() string {
		parts := strings.Split(signAs(t, u, claimsFor(s, u, now)), ".")
		p, _ := json.Marshal(with("jti", "changed"))
		parts[1] = base64.RawURLEncoding.EncodeToString(p)
		return strings.Join(parts, ".")
	}
	unsigned := func() string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"` + u.KeyID + `"}`))
		p, _ := json.Marshal(claimsFor(s, u, now))
		return h + "." + base64.RawURLEncoding.EncodeToString(p) + "."
	}

	cases := []struct {
		name      string
		assertion string
		want      error // nil: accepted
		anyError  bool  // rejected without a checker sentinel (JSON decoding)
	}{
		{"aud other host", signAs(t, u, with("aud", "http://example.com")), ErrAudience, false},
		{"aud trailing slash", signAs(t, u, with("aud", iss+"/")), ErrAudience, false},
		{"aud token endpoint", signAs(t, u, with("aud", s.TokenURL())), ErrAudience, false},
		{"aud missing", signAs(t, u, with("aud", nil)), ErrAudience, false},
		{"aud number", signAs(t, u, with("aud", 42)), ErrAudience, false},
		{"aud array with issuer", signAs(t, u, with("aud", []string{"x", iss})), nil, false},
		{"aud array with number", signAs(t, u, with("aud", []any{iss, 1})), nil, true},
		{"exp past", signAs(t, u, with("exp", now.Add(-time.Minute).Unix())), ErrExpired, false},
		{"exp missing", signAs(t, u, with("exp", nil)), ErrExpired, false},
		{"exp RFC3339", signAs(t, u, with("exp", now.Add(time.Hour).Format(time.RFC3339))), nil, false},
		{"exp fractional", signAs(t, u, with("exp", float64(now.Add(time.Hour).Unix())+0.9)), nil, false},
		{"exp bool", signAs(t, u, with("exp", true)), nil, true},
		{"iat missing", signAs(t, u, with("iat", nil)), ErrIatMissing, false},
		{"iat 3s future", signAs(t, u, with("iat", now.Add(3*time.Second).Unix())), ErrIatInFuture, false},
		{"iat 61 min old", signAs(t, u, with("iat", now.Add(-61*time.Minute).Unix())), ErrIatTooOld, false},
		{"iat 59 min old", signAs(t, u, with("iat", now.Add(-59*time.Minute).Unix())), nil, false},
		{"iss differs from sub", signAs(t, u, with("sub", other.UserID)), ErrSubjectInvalid, false},
		{"iss and sub of other user", signAs(t, u, with("iss", other.UserID)), ErrSubjectInvalid, false},
		{"unknown kid", sign(t, u.PrivateKey, jose.RS256, "123", claimsFor(s, u, now)), ErrKeyNotFound, false},
		{"kid of other user", sign(t, other.PrivateKey, jose.RS256, other.KeyID, claimsFor(s, u, now)), ErrKeyNotFound, false},
		{"wrong private key", sign(t, other.PrivateKey, jose.RS256, u.KeyID, claimsFor(s, u, now)), ErrSignatureInvalid, false},
		{"HS256", sign(t, hmacKey, jose.HS256, u.KeyID, claimsFor(s, u, now)), ErrSignatureUnsupportedAlg, false},
		{"RS384", sign(t, u.PrivateKey, jose.RS384, u.KeyID, claimsFor(s, u, now)), ErrSignatureUnsupportedAlg, false},
		{"alg none", unsigned(), ErrSignatureUnsupportedAlg, false},
		{"tampered payload", tampered(), ErrSignatureInvalid, false},
		{"two segments", "abc.def", ErrParse, false},
		{"payload not base64", "abc.!!!.def", ErrParse, false},
		{"payload not object", "abc." + base64.RawURLEncoding.EncodeToString([]byte(`[1]`)) + ".def", nil, true},
		{"PS256", sign(t, u.PrivateKey, jose.PS256, u.KeyID, claimsFor(s, u, now)), nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(s.Rejections())
			r := grant(t, s, c.assertion)
			if c.want == nil && !c.anyError {
				requireIssued(t, r)
				require.Len(t, s.Rejections(), before)
				return
			}
			requireInternal(t, r)
			require.Len(t, s.Rejections(), before+1)
			if c.want != nil {
				require.ErrorIs(t, lastRejection(t, s), c.want)
			}
		})
	}
}

func TestBoundariesWithFakeClock(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	base := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) int64 { return base.Add(d).Unix() }
	cases := []struct {
		name    string
		now     time.Time
		claim   string
		value   int64
		wantErr error
	}{
		{"exp = now+1s", base, "exp", at(time.Second), ErrExpired},
		{"exp = now+2s", base, "exp", at(2 * time.Second), nil},
		{"iat = now+1s", base, "iat", at(time.Second), nil},
		{"iat = now+2s", base, "iat", at(2 * time.Second), ErrIatInFuture},
		{"iat = now+2s, now rounds up", base.Add(600 * time.Millisecond), "iat", at(2 * time.Second), nil},
		{"iat = now-1h", base, "iat", at(-time.Hour), nil},
		{"iat = now-1h-1s", base, "iat", at(-time.Hour - time.Second), ErrIatTooOld},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.SetNow(func() time.Time { return c.now })
			claims := claimsFor(s, u, base)
			claims[c.claim] = c.value
			r := grant(t, s, signAs(t, u, claims))
			if c.wantErr == nil {
				requireIssued(t, r)
				return
			}
			requireInternal(t, r)
			require.ErrorIs(t, lastRejection(t, s), c.wantErr)
		})
	}
}

func TestClockOffset(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	assertion := signAs(t, u, claimsFor(s, u, time.Now()))

	s.SetClockOffset(-10 * time.Second) // server behind the client
	requireInternal(t, grant(t, s, assertion))
	require.ErrorIs(t, lastRejection(t, s), ErrIatInFuture)

	s.SetClockOffset(2 * time.Hour) // server ahead: assertion expired
	requireInternal(t, grant(t, s, assertion))
	require.ErrorIs(t, lastRejection(t, s), ErrExpired)

	s.SetClockOffset(0)
	requireIssued(t, grant(t, s, assertion))
}

func TestKeyLifecycle(t *testing.T) {
	s := newServer(t, WithECKeys())
	u := s.NewServiceUser()
	now := time.Now()

	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	extra := s.AddKey(u.UserID, ecKey.Public())
	requireIssued(t, grant(t, s, sign(t, ecKey, jose.ES256, extra, claimsFor(s, u, now))))

	s.RevokeKey(u.KeyID)
	requireInternal(t, grant(t, s, signAs(t, u, claimsFor(s, u, now))))
	require.ErrorIs(t, lastRejection(t, s), ErrKeyRevoked)
	require.ErrorIs(t, lastRejection(t, s), ErrSignatureInvalid)

	s.SetKeyExpiry(extra, now.Add(time.Minute))
	requireIssued(t, grant(t, s, sign(t, ecKey, jose.ES256, extra, claimsFor(s, u, now))))
	s.SetKeyExpiry(extra, now.Add(-time.Minute))
	requireInternal(t, grant(t, s, sign(t, ecKey, jose.ES256, extra, claimsFor(s, u, now))))
	require.ErrorIs(t, lastRejection(t, s), ErrKeyExpired)

	require.Panics(t, func() { s.AddKey("nope", ecKey.Public()) })
	require.Panics(t, func() { s.RevokeKey("nope") })
}

func TestLegacyErrors(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	s.SetLegacyErrors(true)
	c := claimsFor(s, u, time.Now())
	c["aud"] = s.Issuer() + "/"
	r := grant(t, s, signAs(t, u, c))
	require.Equal(t, http.StatusBadRequest, r.status, r.raw)
	require.Equal(t, "invalid_grant", r.json["error"])
	require.Contains(t, r.json["error_description"], "audience is not valid")

	s.SetLegacyErrors(false)
	requireInternal(t, grant(t, s, signAs(t, u, c)))
}

func TestFailNext(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	assertion := signAs(t, u, claimsFor(s, u, time.Now()))

	s.FailNext(2, Fault{Status: http.StatusServiceUnavailable, Body: "<html>busy</html>", Header: http.Header{"Retry-After": {"7"}}})
	s.FailNext(1, Fault{})
	s.FailNext(1, Fault{Status: http.StatusBadGateway, NoBody: true})
	for range 2 {
		r := grant(t, s, assertion)
		require.Equal(t, http.StatusServiceUnavailable, r.status)
		require.Equal(t, "<html>busy</html>", r.raw)
		require.Equal(t, "7", r.header.Get("Retry-After"))
	}
	requireInternal(t, grant(t, s, assertion))
	r := grant(t, s, assertion)
	require.Equal(t, http.StatusBadGateway, r.status)
	require.Empty(t, r.raw)
	requireIssued(t, grant(t, s, assertion))

	s.FailNext(3, Fault{})
	s.FailNext(0, Fault{})
	requireIssued(t, grant(t, s, assertion))

	assert.Equal(t, 6, s.TokenRequests())
	assert.Equal(t, 2, s.IssuedTokens())
	assert.Empty(t, s.Rejections(), "faults are not rejections")
}

func postWithContext(ctx context.Context, s *Server) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.TokenURL(), strings.NewReader("grant_type=x"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := s.Client().Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	return res.Body.Close()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, 5*time.Millisecond)
}

func TestHang(t *testing.T) {
	s := NewServer()
	defer s.Close()

	s.FailNext(1, Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := postWithContext(ctx, s)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// A request hung without deadline is released by Close.
	s.FailNext(1, Fault{Hang: true})
	errc := make(chan error, 1)
	go func() { errc <- postWithContext(context.Background(), s) }()
	waitFor(t, func() bool { return s.TokenRequests() == 2 })
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		t.Fatal("Close deadlocked on a hung request")
	}
	require.Error(t, <-errc)
}

func TestLatency(t *testing.T) {
	s := NewServer()
	defer s.Close()
	u := s.NewServiceUser()
	assertion := signAs(t, u, claimsFor(s, u, time.Now()))

	s.SetLatency(150 * time.Millisecond)
	requireIssued(t, grant(t, s, assertion))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, postWithContext(ctx, s), context.DeadlineExceeded)

	s.SetLatency(time.Hour)
	errc := make(chan error, 1)
	go func() { errc <- postWithContext(context.Background(), s) }()
	waitFor(t, func() bool { return s.TokenRequests() == 3 })
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		t.Fatal("Close deadlocked on a delayed request")
	}
	require.Error(t, <-errc)
}

func TestCloseConn(t *testing.T) {
	s := newServer(t)
	s.FailNext(1, Fault{CloseConn: true})
	err := postWithContext(context.Background(), s)
	require.Error(t, err)
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, 1, s.TokenRequests())
	require.Equal(t, 0, s.IssuedTokens())
}

func TestCounters(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	now := time.Now()
	requireIssued(t, grant(t, s, signAs(t, u, claimsFor(s, u, now))))
	bad := claimsFor(s, u, now)
	bad["sub"] = "someone else"
	requireInternal(t, grant(t, s, signAs(t, u, bad)))
	s.FailNext(1, Fault{Status: http.StatusTooManyRequests})
	r := grant(t, s, signAs(t, u, claimsFor(s, u, now)))
	require.Equal(t, http.StatusTooManyRequests, r.status)

	assert.Equal(t, 3, s.TokenRequests())
	assert.Equal(t, 1, s.IssuedTokens())
	rej := s.Rejections()
	require.Len(t, rej, 1)
	assert.ErrorIs(t, rej[0], ErrSubjectInvalid)
	assert.Equal(t, "delegation not allowed, issuer and sub must be identical", rej[0].Error())
}

func TestTokenLifetime(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	base := time.Now()
	s.SetNow(func() time.Time { return base })
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

	later := base.Add(91 * time.Second)
	s.SetNow(func() time.Time { return later })
	require.Equal(t, http.StatusUnauthorized, userinfo(t, s, tok).status)
	s.SetNow(nil)
}

func TestUserinfoRejects(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	tok := requireIssued(t, grant(t, s, signAs(t, u, claimsFor(s, u, time.Now()))))

	s.RevokeToken(tok)
	for _, token := range []string{tok, "made-up"} {
		r := userinfo(t, s, token)
		require.Equal(t, http.StatusUnauthorized, r.status)
		require.Empty(t, r.header.Get("WWW-Authenticate"))
		require.Equal(t, "access_denied", r.json["error"])
	}
}

func TestDiscovery(t *testing.T) {
	s := newServer(t)
	req, err := http.NewRequest(http.MethodGet, s.Issuer()+"/.well-known/openid-configuration", nil)
	require.NoError(t, err)
	r := do(t, s, req)
	require.Equal(t, http.StatusOK, r.status)
	require.False(t, strings.HasSuffix(s.Issuer(), "/"))
	assert.Equal(t, s.Issuer(), r.json["issuer"])
	assert.Equal(t, s.TokenURL(), r.json["token_endpoint"])
	assert.Equal(t, s.UserinfoURL(), r.json["userinfo_endpoint"])
	assert.Equal(t, s.Issuer()+"/oauth/v2/keys", r.json["jwks_uri"])
	assert.Subset(t, r.json["grant_types_supported"], []any{GrantTypeJWTBearer, "client_credentials"})

	keys, err := http.NewRequest(http.MethodGet, s.Issuer()+"/oauth/v2/keys", nil)
	require.NoError(t, err)
	var set struct{ Keys []map[string]any }
	require.NoError(t, json.Unmarshal([]byte(do(t, s, keys).raw), &set))
	require.Len(t, set.Keys, 1)
	assert.Equal(t, "RSA", set.Keys[0]["kty"])
	assert.Equal(t, "RS256", set.Keys[0]["alg"])
}

// Concurrent use of knobs and endpoints must be race free.
func TestConcurrentUse(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	assertion := signAs(t, u, claimsFor(s, u, time.Now()))
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			s.SetClockOffset(0)
			s.SetLatency(0)
			s.FailNext(1, Fault{Status: 503})
			_ = postWithContext(context.Background(), s)
			if res, err := s.Client().PostForm(s.TokenURL(), url.Values{"grant_type": {GrantTypeJWTBearer}, "assertion": {assertion}, "scope": {"openid"}}); err == nil {
				_ = res.Body.Close()
			}
			_ = s.Rejections()
		}()
	}
	for range 8 {
		<-done
	}
	// Each fault is taken by exactly one request.
	assert.Equal(t, 16, s.TokenRequests())
	assert.Equal(t, 8, s.IssuedTokens()+len(s.Rejections()))
}
