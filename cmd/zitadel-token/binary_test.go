package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// TestBinarySession runs the built tool the way an operator does, in one
// cache directory, and logs the session (go test -v -run TestBinarySession).
func TestBinarySession(t *testing.T) {
	f := newSecretFixture(t)
	other := f.srv.NewOrganization("Acme")
	env := []string{envKey + "=" + f.keyPath, envIssuer + "=" + f.srv.Issuer(), "XDG_CACHE_HOME=" + t.TempDir()}
	steps := []struct {
		args []string
		want int
	}{
		{[]string{"api", "/management/v1/orgs/me"}, exitOK},
		{[]string{"api", "-org", other, "/management/v1/orgs/me"}, exitOK},
		{[]string{"api", "/management/v1/projects/_search"}, exitRefused},
		{[]string{"api", "-scope", "openid", "/management/v1/orgs/me"}, exitRefused},
		{[]string{"api", "management/v1/orgs/me"}, exitUsage},
		{[]string{"doctor"}, exitOK},
	}
	var log strings.Builder
	for _, s := range steps {
		r := f.runBinary(t, env, s.args...)
		fmt.Fprintf(&log, "$ zitadel-token %s\n%s%s[exit %d]\n", strings.Join(s.args, " "), r.stdout, r.stderr, r.code)
		checkCode(t, r, s.want)
	}
	t.Logf("session (ZITADEL_KEY and ZITADEL_ISSUER=%s set):\n%s", f.srv.Issuer(), log.String())
	// The api calls with the default scopes share one cached token; doctor
	// asks for its own.
	if n := f.srv.TokenRequests(); n != 2+2 {
		t.Errorf("%d token requests, want 4 (one for the default scopes, one for -scope openid, two by doctor)", n)
	}
}

func TestBinaryCredentialsAndCache(t *testing.T) {
	f := newSecretFixture(t)
	cache := "XDG_CACHE_HOME=" + t.TempDir()
	iss := envIssuer + "=" + f.srv.Issuer()
	env := []string{cache, iss, envClientID + "=" + f.clientID, envClientSecret + "=" + f.secret}
	first := f.runBinary(t, env, "token")
	checkCode(t, first, exitOK)
	f.addToken(strings.TrimSpace(first.stdout))
	if again := f.runBinary(t, env, "token"); again.stdout != first.stdout {
		t.Error("the second run did not print the cached token")
	}
	if n := f.srv.TokenRequests(); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
	checkCode(t, f.runBinary(t, env, "token", "-no-cache"), exitOK)
	if n := f.srv.TokenRequests(); n != 2 {
		t.Errorf("-no-cache: %d token requests, want 2", n)
	}
	r := f.runBinary(t, []string{cache, iss, envPAT + "=" + f.pat}, "userinfo")
	checkCode(t, r, exitOK)
	if !strings.Contains(r.stdout, f.user.UserID) {
		t.Errorf("userinfo with a PAT: %q", r.stdout)
	}
	r = f.runBinary(t, []string{cache, iss}, "token", "-client-id", f.clientID, "-client-secret-file", f.secretPath, "-pat-file", f.patPath)
	checkCode(t, r, exitUsage)
	f.srv.FailNext(1, serviceusertest.Fault{})
	r = f.runBinary(t, []string{iss}, "doctor", "-client-id", f.clientID, "-client-secret-file", f.secretPath)
	checkCode(t, r, exitChecks)
	if !strings.Contains(r.stdout, "FAIL  token") || r.stderr != "zitadel-token: 1 of 6 checks failed\n" {
		t.Errorf("doctor: stdout %q, stderr %q", r.stdout, r.stderr)
	}
}
