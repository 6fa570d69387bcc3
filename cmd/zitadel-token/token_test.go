package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

func TestTokenPlain(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{
		{"token", "-key", f.keyPath, "-issuer", f.srv.Issuer()},
		{"-key", f.keyPath, "-issuer", f.srv.Issuer() + "/"},
		{"-key", f.keyPath, "-issuer", f.srv.Issuer(), "-scope", "openid profile", "-scope", "email"},
		{"-key", f.keyPath, "-issuer", f.srv.Issuer(), "-token-url", f.srv.TokenURL()},
	} {
		r := f.run(t, nil, args...)
		checkCode(t, r, exitOK)
		tok, ok := strings.CutSuffix(r.stdout, "\n")
		if !ok || tok == "" || strings.ContainsAny(tok, " \n") {
			t.Fatalf("stdout %q is not one token and a newline", r.stdout)
		}
		f.addToken(tok)
		checkTokenWorks(t, f, tok)
	}
}

func TestTokenJSON(t *testing.T) {
	f := newFixture(t)
	r := f.run(t, nil, "token", "-json", "-key", f.keyPath, "-issuer", f.srv.Issuer())
	checkCode(t, r, exitOK)
	var got struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Expiry      string `json:"expiry"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("stdout %q: %v", r.stdout, err)
	}
	f.addToken(got.AccessToken)
	checkTokenWorks(t, f, got.AccessToken)
	expiry, err := time.Parse(time.RFC3339, got.Expiry)
	lifetime := int64(serviceusertest.DefaultTokenLifetime / time.Second)
	if err != nil || time.Until(expiry) < 11*time.Hour || got.ExpiresIn < lifetime-5 || got.ExpiresIn > lifetime {
		t.Errorf("expiry %q, expires_in %d: want about %d s from now", got.Expiry, got.ExpiresIn, lifetime)
	}
	if got.TokenType != "Bearer" {
		t.Errorf("token_type %q", got.TokenType)
	}
}

func TestTokenFromEnvironment(t *testing.T) {
	f := newFixture(t)
	iss := f.srv.Issuer()
	cases := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"ZITADEL_KEY path", map[string]string{envKey: f.keyPath, envIssuer: iss}, []string{"token"}},
		{"ZITADEL_KEY JSON", map[string]string{envKey: string(f.user.KeyFile), envIssuer: iss}, []string{"token"}},
		{"-key-env JSON", map[string]string{"MY_KEY": "  " + string(f.user.KeyFile) + "\n"}, []string{"-key-env", "MY_KEY", "-issuer", iss}},
		{"-key-env path", map[string]string{"MY_KEY": f.keyPath + "\n", envIssuer: iss}, []string{"-key-env", "MY_KEY"}},
		{"-key wins over ZITADEL_KEY", map[string]string{envKey: "/nonexistent", envIssuer: iss}, []string{"-key", f.keyPath}},
		// as docker --env-file and editors keep them; the library's KeyFileFromEnv takes these too
		{"ZITADEL_KEY JSON in quotes", map[string]string{envKey: "'" + string(f.user.KeyFile) + "'", envIssuer: iss}, []string{"token"}},
		{"ZITADEL_KEY JSON after a BOM", map[string]string{envKey: "\ufeff" + string(f.user.KeyFile), envIssuer: iss}, []string{"token"}},
		{"ZITADEL_KEY path in quotes", map[string]string{envKey: `"` + f.keyPath + `"`, envIssuer: iss}, []string{"token"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkTokenWorks(t, f, f.printedToken(t, c.env, c.args...))
		})
	}
}

func TestBinaryToken(t *testing.T) {
	f := newFixture(t)
	r := f.runBinary(t, nil, "token", "-key", f.keyPath, "-issuer", f.srv.Issuer())
	checkCode(t, r, exitOK)
	tok := strings.TrimSuffix(r.stdout, "\n")
	f.addToken(tok)
	checkTokenWorks(t, f, tok)

	r = f.runBinary(t, []string{envKey + "=" + f.keyPath, envIssuer + "=" + f.srv.Issuer()}, "userinfo")
	checkCode(t, r, exitOK)
	if !strings.Contains(r.stdout, f.user.UserID) {
		t.Errorf("userinfo printed %q", r.stdout)
	}

	checkCode(t, f.runBinary(t, nil), exitUsage)
	checkCode(t, f.runBinary(t, nil, "frobnicate"), exitUsage)
	checkCode(t, f.runBinary(t, nil, "-key", filepath.Join(t.TempDir(), "none.json"), "-issuer", f.srv.Issuer()), exitKey)
	f.srv.FailNext(10, serviceusertest.Fault{Status: http.StatusInternalServerError}) // a single 500 is retried within the wait
	checkCode(t, f.runBinary(t, nil, "-key", f.keyPath, "-issuer", f.srv.Issuer()), exitRefused)
	checkCode(t, f.runBinary(t, nil, "-key", f.keyPath, "-issuer", "http://"+closedAddr(t)), exitNetwork)
}

func TestServerRefuses(t *testing.T) {
	f := newFixture(t)
	args := []string{"-key", f.keyPath, "-issuer", f.srv.Issuer()}

	f.srv.FailNext(10, serviceusertest.Fault{Status: http.StatusInternalServerError}) // a single 500 is retried within the wait
	r := f.run(t, nil, args...)
	checkCode(t, r, exitRefused)
	if !strings.Contains(r.stderr, "HTTP 500") {
		t.Errorf("stderr %q does not name the status", r.stderr)
	}

	f.srv.RevokeKey(f.user.KeyID)
	checkCode(t, f.run(t, nil, args...), exitRefused)
	checkCode(t, f.run(t, nil, append([]string{"userinfo"}, args...)...), exitRefused)
	if r.stdout != "" {
		t.Errorf("stdout %q after a refusal", r.stdout)
	}
}

func TestTimeout(t *testing.T) {
	f := newFixture(t)
	f.srv.FailNext(1, serviceusertest.Fault{Hang: true})
	r := f.run(t, nil, "-key", f.keyPath, "-issuer", f.srv.Issuer(), "-timeout", "300ms")
	checkCode(t, r, exitNetwork) // without the timeout the request would hang
}
