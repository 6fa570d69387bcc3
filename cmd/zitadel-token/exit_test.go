package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestExitCodes(t *testing.T) {
	f := newFixture(t)
	keyArgs := []string{"-key", f.keyPath, "-issuer", f.srv.Issuer()}
	malformed := writeFile(t, "bad.json", []byte(`{"type":"serviceaccount","keyId":"1","key":"not a key","userId":"2"}`))
	dead := "http://" + closedAddr(t)
	keyJSON := string(f.user.KeyFile)
	pem := keyFields(t, f.user.KeyFile)["key"].(string)
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want int
	}{
		{"unknown subcommand", nil, []string{"frobnicate"}, exitUsage},
		{"unknown flag", nil, []string{"token", "-frobnicate"}, exitUsage},
		{"stray argument", nil, append([]string{"token"}, append(keyArgs, "extra")...), exitUsage},
		{"no arguments", nil, nil, exitUsage},
		{"missing -key", nil, []string{"-issuer", f.srv.Issuer()}, exitUsage},
		{"missing -issuer", nil, []string{"-key", f.keyPath}, exitUsage},
		{"-key and -key-env", map[string]string{"K": keyJSON}, append(keyArgs, "-key-env", "K"), exitUsage},
		{"-key-env unset", nil, []string{"-key-env", "NOT_SET", "-issuer", f.srv.Issuer()}, exitUsage},
		{"-key-env given the JSON", map[string]string{"K": keyJSON}, []string{"-key-env", keyJSON, "-issuer", f.srv.Issuer()}, exitUsage},
		{"-key given the JSON", nil, []string{"-key", keyJSON, "-issuer", f.srv.Issuer()}, exitUsage},
		{"JSON as subcommand", nil, []string{keyJSON}, exitUsage},
		{"JSON as a flag value", nil, append(keyArgs, "-timeout", keyJSON), exitUsage},
		{"plain http issuer", nil, []string{"-key", f.keyPath, "-issuer", "http://zitadel.example.com"}, exitUsage},
		{"bad timeout", nil, append(keyArgs, "-timeout", "0s"), exitUsage},
		{"malformed key file", nil, []string{"-key", malformed, "-issuer", f.srv.Issuer()}, exitKey},
		{"malformed key file, inspect", nil, []string{"inspect", "-key", malformed}, exitKey},
		{"missing key file", nil, []string{"-key", filepath.Join(t.TempDir(), "none.json"), "-issuer", f.srv.Issuer()}, exitKey},
		{"PEM in the key variable", map[string]string{envKey: pem, envIssuer: f.srv.Issuer()}, []string{"token"}, exitKey},
		{"unreachable issuer", nil, []string{"-key", f.keyPath, "-issuer", dead}, exitNetwork},
		{"unreachable token URL", nil, append(keyArgs, "-token-url", dead+"/oauth/v2/token"), exitNetwork},
		{"unreachable issuer, userinfo", nil, []string{"userinfo", "-key", f.keyPath, "-issuer", dead}, exitNetwork},
		{"wrong token URL", nil, append(keyArgs, "-token-url", f.srv.Issuer()+"/nowhere"), exitRefused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.run(t, c.env, c.args...)
			checkCode(t, r, c.want)
			if strings.Contains(r.stderr, keyJSON) || strings.Contains(r.stderr, `"keyId"`) {
				t.Errorf("stderr repeats the key file: %q", r.stderr)
			}
		})
	}
	if n := f.srv.TokenRequests(); n != 0 {
		t.Errorf("%d token requests reached the server", n)
	}
}

func TestExitCodeMapping(t *testing.T) {
	if got := exitCode(errors.New("something else")); got != exitFailure {
		t.Errorf("exitCode(plain error) = %d, want %d", got, exitFailure)
	}
	if got := exitCode(classified(fmt.Errorf("wrapped: %w", context.DeadlineExceeded))); got != exitNetwork {
		t.Errorf("exitCode(deadline) = %d, want %d", got, exitNetwork)
	}
}

// truncatingServer answers every request with status, headers announcing a
// longer body than it sends, part of a body, then drops the connection.
func truncatingServer(t *testing.T, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"error\":\"ser",
			status, http.StatusText(status))
		buf.Flush()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestConnectionDroppedMidBody(t *testing.T) {
	f, _, introspectArgs := introspectFixture(t)
	jwt := userToken(t, f)
	for _, status := range []int{http.StatusOK, http.StatusBadRequest, http.StatusInternalServerError} {
		cut := truncatingServer(t, status)
		cases := map[string][]string{
			"token URL":         {"-key", f.keyPath, "-issuer", f.srv.Issuer(), "-token-url", cut + "/oauth/v2/token"},
			"discovery":         {"-key", f.keyPath, "-issuer", cut},
			"userinfo URL":      {"userinfo", "-key", f.keyPath, "-issuer", f.srv.Issuer(), "-userinfo-url", cut + "/oidc/v1/userinfo"},
			"introspection URL": append(slices.Clone(introspectArgs), "-token", jwt, "-introspection-url", cut+"/oauth/v2/introspect"),
		}
		for name, args := range cases {
			t.Run(fmt.Sprintf("%s %d", name, status), func(t *testing.T) {
				r := f.run(t, nil, args...)
				checkCode(t, r, exitNetwork)
			})
		}
	}
	checkCode(t, f.runBinary(t, nil, "-key", f.keyPath, "-issuer", f.srv.Issuer(),
		"-token-url", truncatingServer(t, http.StatusOK)+"/oauth/v2/token"), exitNetwork)
}
