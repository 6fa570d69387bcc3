package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// secretFixture adds a machine user with a client secret and a personal
// access token to a fixture, and writes both to files.
type secretFixture struct {
	*fixture
	clientID, secret, secretPath string
	pat, patPath                 string
}

func newSecretFixture(t *testing.T) *secretFixture {
	t.Helper()
	f := newFixture(t)
	user, secret := f.srv.NewServiceUserWithSecret()
	pat := f.srv.NewPersonalAccessToken(f.user.UserID, time.Time{})
	f.addToken(pat)
	f.addToken(secret)
	return &secretFixture{fixture: f, clientID: user.Username, secret: secret,
		secretPath: writeFile(t, "secret.txt", []byte(secret+"\n")),
		pat:        pat, patPath: writeFile(t, "pat.txt", []byte(pat+"\n"))}
}

func TestClientCredentialsToken(t *testing.T) {
	f := newSecretFixture(t)
	iss := f.srv.Issuer()
	cases := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"flags", nil, []string{"token", "-client-id", f.clientID, "-client-secret-file", f.secretPath, "-issuer", iss}},
		{"secret in the environment", map[string]string{envClientSecret: f.secret}, []string{"-client-id", f.clientID, "-issuer", iss}},
		{"all from the environment", map[string]string{envClientID: f.clientID, envClientSecret: f.secret, envIssuer: iss}, []string{"token"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := f.printedToken(t, c.env, c.args...)
			if status, claims := callUserinfo(t, f.srv, tok); status != http.StatusOK || claims["sub"] == nil {
				t.Errorf("userinfo with the printed token: %d %v", status, claims)
			}
		})
	}
}

func TestClientCredentialsUserinfo(t *testing.T) {
	f := newSecretFixture(t)
	r := f.run(t, nil, "userinfo", "-client-id", f.clientID, "-client-secret-file", f.secretPath, "-issuer", f.srv.Issuer())
	checkCode(t, r, exitOK)
	if !strings.Contains(r.stdout, `"sub"`) {
		t.Errorf("userinfo printed %q", r.stdout)
	}
}

func TestPATModes(t *testing.T) {
	f := newSecretFixture(t)
	iss := f.srv.Issuer()
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"-pat-file", nil, []string{"userinfo", "-pat-file", f.patPath, "-issuer", iss}},
		{"$ZITADEL_PAT", map[string]string{envPAT: f.pat, envIssuer: iss}, []string{"userinfo"}},
		{"-pat-file wins over $ZITADEL_KEY", map[string]string{envKey: "/nonexistent", envIssuer: iss}, []string{"userinfo", "-pat-file", f.patPath}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := f.run(t, c.env, c.args...)
			checkCode(t, r, exitOK)
			if !strings.Contains(r.stdout, f.user.UserID) {
				t.Errorf("userinfo printed %q, want sub %s", r.stdout, f.user.UserID)
			}
		})
	}
	r := f.run(t, nil, "token", "-pat-file", f.patPath)
	checkCode(t, r, exitOK)
	if r.stdout != f.pat+"\n" {
		t.Errorf("token with a PAT printed %q", r.stdout)
	}
	if n := f.srv.TokenRequests(); n != 0 {
		t.Errorf("a personal access token caused %d token requests", n)
	}
}

func TestCredentialErrors(t *testing.T) {
	f := newSecretFixture(t)
	iss := f.srv.Issuer()
	wrong := writeFile(t, "wrong.txt", []byte("not-the-secret-"+f.secret))
	f.addToken("not-the-secret-" + f.secret)
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want int
	}{
		{"key and PAT", nil, []string{"-key", f.keyPath, "-pat-file", f.patPath, "-issuer", iss}, exitUsage},
		{"client id and PAT", nil, []string{"-client-id", f.clientID, "-pat-file", f.patPath, "-issuer", iss}, exitUsage},
		{"two in the environment", map[string]string{envKey: f.keyPath, envPAT: f.pat, envIssuer: iss}, []string{"token"}, exitUsage},
		{"client id without secret", nil, []string{"-client-id", f.clientID, "-issuer", iss}, exitUsage},
		{"secret file without client id", nil, []string{"-client-secret-file", f.secretPath, "-issuer", iss}, exitUsage},
		{"missing secret file", nil, []string{"-client-id", f.clientID, "-client-secret-file", filepath.Join(t.TempDir(), "none"), "-issuer", iss}, exitKey},
		{"empty secret file", nil, []string{"-client-id", f.clientID, "-client-secret-file", writeFile(t, "empty", []byte("\n")), "-issuer", iss}, exitKey},
		{"missing PAT file", nil, []string{"-pat-file", filepath.Join(t.TempDir(), "none"), "-issuer", iss}, exitKey},
		{"wrong secret", nil, []string{"-client-id", f.clientID, "-client-secret-file", wrong, "-issuer", iss}, exitRefused},
		{"PAT without issuer, userinfo", nil, []string{"userinfo", "-pat-file", f.patPath}, exitUsage},
		{"secret as a flag", nil, []string{"-client-id", f.clientID, "-client-secret", f.secret, "-issuer", iss}, exitUsage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.run(t, c.env, c.args...)
			checkCode(t, r, c.want)
		})
	}
	f.srv.RevokeToken(f.pat)
	r := f.run(t, nil, "userinfo", "-pat-file", f.patPath, "-issuer", iss)
	checkCode(t, r, exitRefused)
}

// TestZitadelFakeVariables checks the variables zitadel-fake prints for
// eval: they hold one credential, the key file, since $ZITADEL_CLIENT_ID
// without $ZITADEL_CLIENT_SECRET is a login name, not a credential. A
// client id with its secret next to a key is still two credentials.
func TestZitadelFakeVariables(t *testing.T) {
	f := newSecretFixture(t)
	env := map[string]string{envIssuer: f.srv.Issuer(), envKey: f.keyPath, envClientID: f.clientID,
		"ZITADEL_CLIENT_SECRET_FILE": f.secretPath, "ZITADEL_PAT_FILE": f.patPath}
	checkTokenWorks(t, f.fixture, f.printedToken(t, env, "token"))

	env[envClientSecret] = f.secret
	r := f.run(t, env, "token")
	checkCode(t, r, exitUsage)
	if !strings.Contains(r.stderr, "give one credential") {
		t.Errorf("stderr %q", r.stderr)
	}

	r = f.run(t, map[string]string{envIssuer: f.srv.Issuer(), envClientID: f.clientID}, "token")
	checkCode(t, r, exitUsage)
	if !strings.Contains(r.stderr, "missing client secret") {
		t.Errorf("a client id alone: stderr %q does not name the missing secret", r.stderr)
	}
}
