package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// TestErrorsHaveOnePrefix checks that the built tool names itself once per
// error line and does not repeat the library's "serviceuser: " after it.
func TestErrorsHaveOnePrefix(t *testing.T) {
	f := newSecretFixture(t)
	iss := envIssuer + "=" + f.srv.Issuer()
	missing := filepath.Join(t.TempDir(), "missing.json")
	invalid := f.modifiedKey(t, map[string]any{"keyId": nil})
	for _, c := range []struct {
		name string
		env  []string
		args []string
		want int
	}{
		{"missing key file", []string{iss}, []string{"token", "-key", missing}, exitKey},
		{"invalid key file", []string{iss}, []string{"token", "-key", invalid}, exitKey},
		{"missing secret file", []string{iss}, []string{"token", "-client-id", f.clientID, "-client-secret-file", missing}, exitKey},
		{"refused token", []string{iss, envClientID + "=" + f.clientID, envClientSecret + "=wrong-" + f.secret}, []string{"token", "-no-cache"}, exitRefused},
		{"inspect", nil, []string{"inspect", "-key", missing}, exitKey},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := f.runBinary(t, c.env, c.args...)
			checkCode(t, r, c.want)
			if strings.Contains(r.stderr, "serviceuser:") || strings.Count(r.stderr, progName+":") != 1 {
				t.Errorf("stderr %q: want one %q prefix and no %q", r.stderr, progName+":", "serviceuser:")
			}
		})
	}
	f.srv.FailNext(1, serviceusertest.Fault{Status: http.StatusBadRequest,
		Body: `{"error":"invalid_request","error_description":"Errors.User.NotActive"}`})
	r := f.run(t, nil, "doctor", "-key", f.keyPath, "-issuer", f.srv.Issuer())
	checkCode(t, r, exitChecks)
	if strings.Contains(r.stdout, "serviceuser:") {
		t.Errorf("doctor repeats the library's prefix:\n%s", r.stdout)
	}
}

// pemFiles returns the fixture's private key as PKCS#1 and as PKCS#8 PEM
// files, and a public key PEM file.
func pemFiles(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	pkcs1 := keyFields(t, f.user.KeyFile)["key"].(string)
	block, _ := pem.Decode([]byte(pkcs1))
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&other.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"PKCS#1": writeFile(t, "key.pem", []byte(pkcs1)),
		"PKCS#8": writeFile(t, "key8.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
		"public": writeFile(t, "pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
	}
}

// TestPEMGivenAsKeyFile checks that a PEM key where the JSON key file
// belongs gets a hint that says what to do, wherever it is given.
func TestPEMGivenAsKeyFile(t *testing.T) {
	f, app, _ := introspectFixture(t)
	iss := f.srv.Issuer()
	files := pemFiles(t, f)
	for kind, path := range files {
		pemText := string(readFileBytes(t, path))
		for _, c := range []struct {
			name string
			env  map[string]string
			args []string
		}{
			{"-key", nil, []string{"token", "-key", path, "-issuer", iss}},
			{"-key of inspect", nil, []string{"inspect", "-key", path}},
			{"path in $ZITADEL_KEY", map[string]string{envKey: path}, []string{"token", "-issuer", iss}},
			{"PEM in $ZITADEL_KEY", map[string]string{envKey: pemText}, []string{"token", "-issuer", iss}},
			{"-key of introspect", nil, []string{"introspect", "-key", path, "-issuer", iss, "-token", "x"}},
		} {
			t.Run(kind+"/"+c.name, func(t *testing.T) {
				r := f.run(t, c.env, c.args...)
				checkCode(t, r, exitKey)
				checkPEMHint(t, kind, r.stderr)
			})
		}
		t.Run(kind+"/doctor", func(t *testing.T) {
			r := f.run(t, nil, "doctor", "-key", path, "-issuer", iss)
			checkCode(t, r, exitChecks)
			checkLine(t, r.stdout, "key", statusFail, "PEM")
			checkPEMHint(t, kind, r.stdout)
			r = f.run(t, nil, "doctor", "-key", f.keyPath, "-issuer", iss, "-app-key", path, "-scope", "openid "+app.AudienceScope())
			checkLine(t, r.stdout, "introspection", statusFail, "PEM")
		})
	}
}

func checkPEMHint(t *testing.T, kind, out string) {
	t.Helper()
	want := []string{"PEM", "JSON", "console"}
	if kind != "public" {
		want = append(want, "NewSignerKey")
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the message does not say %q: %q", w, out)
		}
	}
}

// TestTokenJSONOfAPersonalAccessToken checks that -json claims no expiry
// for a personal access token, whose expiry the tool does not know.
func TestTokenJSONOfAPersonalAccessToken(t *testing.T) {
	f := newSecretFixture(t)
	r := f.run(t, nil, "token", "-json", "-pat-file", f.patPath)
	checkCode(t, r, exitOK)
	if strings.Contains(r.stdout, "expir") || !strings.Contains(r.stdout, `"access_token":"`+f.pat+`"`) {
		t.Errorf("stdout %q: want the token without an expiry", r.stdout)
	}
}
