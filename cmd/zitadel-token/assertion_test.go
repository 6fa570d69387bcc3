package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// assertionClaims decodes the payload of a compact JWT.
func assertionClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("assertion %q has %d parts, want 3", jwt, len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func audience(claims map[string]any) []string {
	switch aud := claims["aud"].(type) {
	case string:
		return []string{aud}
	case []any:
		var out []string
		for _, a := range aud {
			s, _ := a.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

func TestAssertion(t *testing.T) {
	for _, kind := range []serviceusertest.KeyKind{serviceusertest.KeyRSA, serviceusertest.KeyRSAPKCS8, serviceusertest.KeyEC} {
		t.Run(kind.String(), func(t *testing.T) {
			f := newFixtureWithKey(t, kind)
			r := f.run(t, nil, "assertion", "-key", f.keyPath, "-issuer", f.srv.Issuer(), "-lifetime", "10m")
			checkCode(t, r, exitOK)
			jwt := strings.TrimSuffix(r.stdout, "\n")
			claims := assertionClaims(t, jwt)
			if claims["iss"] != f.user.UserID || claims["sub"] != f.user.UserID {
				t.Errorf("iss %v, sub %v, want %s", claims["iss"], claims["sub"], f.user.UserID)
			}
			if !slices.Contains(audience(claims), f.srv.Issuer()) {
				t.Errorf("aud %v does not contain %s", claims["aud"], f.srv.Issuer())
			}
			if exp, _ := claims["exp"].(float64); time.Until(time.Unix(int64(exp), 0)) > 11*time.Minute {
				t.Errorf("exp %v is more than 10 minutes away", claims["exp"])
			}
			exchangeAssertion(t, f, jwt)
		})
	}
}

// exchangeAssertion checks that the fake's token endpoint accepts jwt.
func exchangeAssertion(t *testing.T, f *fixture, jwt string) {
	t.Helper()
	resp, err := http.PostForm(f.srv.TokenURL(), url.Values{
		"grant_type": {serviceusertest.GrantTypeJWTBearer}, "assertion": {jwt}, "scope": {"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Errorf("token endpoint refused the assertion: %d %s (%v)", resp.StatusCode, body, f.srv.Rejections())
	}
}

func TestAssertionLifetimeOutOfRange(t *testing.T) {
	f := newFixture(t)
	for _, lifetime := range []string{"0s", "2h", "-1m", "1m"} {
		r := f.run(t, nil, "assertion", "-key", f.keyPath, "-issuer", f.srv.Issuer(), "-lifetime", lifetime)
		checkCode(t, r, exitUsage)
	}
}
