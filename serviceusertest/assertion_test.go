package serviceusertest

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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

// appClaims returns valid client assertion claims for app at time now.
func appClaims(s *Server, app *Application, now time.Time) map[string]any {
	return map[string]any{
		"iss": app.ClientID,
		"sub": app.ClientID,
		"aud": []string{s.Issuer()},
		"iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
}

func signApp(t *testing.T, app *Application, claims map[string]any) string {
	t.Helper()
	return sign(t, app.PrivateKey, jose.RS256, app.KeyID, claims)
}

// TestAssertionChecks runs in a bubble: cases such as "iat 3s future" hold
// on a clock that stands still, however long signing and key generation
// take on a loaded machine.
func TestAssertionChecks(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
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
		for _, c := range cases { // no t.Run inside a bubble: each message names its case
			before := len(s.Rejections())
			r := grant(t, s, c.assertion)
			if c.want == nil && !c.anyError {
				require.Equal(t, http.StatusOK, r.status, "%s: %s", c.name, r.raw)
				require.Len(t, s.Rejections(), before, c.name)
				continue
			}
			require.Equal(t, http.StatusInternalServerError, r.status, "%s: %s", c.name, r.raw)
			require.Equal(t, internalBody, r.raw, c.name)
			require.Len(t, s.Rejections(), before+1, c.name)
			if c.want != nil {
				require.ErrorIs(t, lastRejection(t, s), c.want, c.name)
			}
		}
	})
}

func TestBoundariesWithFakeClock(t *testing.T) {
	cases := []struct {
		name    string
		elapsed time.Duration // from base, a whole second, to the request
		claim   string
		value   time.Duration // the claim is base plus value, in seconds
		wantErr error
	}{
		{"exp = now+1s", 0, "exp", time.Second, ErrExpired},
		{"exp = now+2s", 0, "exp", 2 * time.Second, nil},
		{"iat = now+1s", 0, "iat", time.Second, nil},
		{"iat = now+2s", 0, "iat", 2 * time.Second, ErrIatInFuture},
		{"iat = now+2s, now rounds up", 600 * time.Millisecond, "iat", 2 * time.Second, nil},
		{"iat = now-1h", 0, "iat", -time.Hour, nil},
		{"iat = now-1h-1s", 0, "iat", -time.Hour - time.Second, ErrIatTooOld},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inBubble(t, func(t *testing.T, s *Server) {
				u := s.NewServiceUser()
				base := time.Now()
				require.Zero(t, base.Nanosecond(), "a bubble's clock starts on a whole second")
				claims := claimsFor(s, u, base)
				claims[c.claim] = base.Add(c.value).Unix()
				time.Sleep(c.elapsed)
				r := grant(t, s, signAs(t, u, claims))
				if c.wantErr == nil {
					requireIssued(t, r)
					return
				}
				requireInternal(t, r)
				require.ErrorIs(t, lastRejection(t, s), c.wantErr)
			})
		})
	}
}

func TestIntrospectAcceptsPS256(t *testing.T) {
	s := newServer(t)
	app := s.NewApplication()
	assertion := sign(t, app.PrivateKey, jose.PS256, app.KeyID, appClaims(s, app, time.Now()))
	r := introspectAs(t, s, assertion, audienceToken(t, s, app))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, true, r.json["active"])
}

func TestIntrospectAssertionTolerance(t *testing.T) {
	inBubble(t, func(t *testing.T, s *Server) {
		now := time.Now()
		app := s.NewApplication()
		tok := audienceToken(t, s, app)
		at := func(iat, exp time.Duration) any {
			c := appClaims(s, app, now)
			c["iat"], c["exp"] = now.Add(iat).Unix(), now.Add(exp).Unix()
			return introspectAs(t, s, signApp(t, app, c), tok).json["active"]
		}
		assert.Equal(t, false, at(0, time.Second), "exp must be later than now+1s")
		assert.Equal(t, true, at(0, 2*time.Second))
		assert.Equal(t, true, at(time.Second, time.Hour), "iat up to 1s ahead")
		assert.Equal(t, false, at(2*time.Second, time.Hour))
	})
}
