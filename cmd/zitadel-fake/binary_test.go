//go:build unix

package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/filewatch"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/userinfo"
)

// TestBinaryServesEveryCredential runs the built command as a user does and
// uses what it prints with the library: each credential, a knob turned at
// the admin endpoint, then SIGINT.
func TestBinaryServesEveryCredential(t *testing.T) {
	p := startFake(t, buildFake(t), "-listen", "127.0.0.1:0")
	env := p.env
	for _, name := range []string{envIssuer, envKey, envAPIKey, envProjectID, envClientID, envClientSecretFile, envPATFile, envAdmin, envPID} {
		if env[name] == "" {
			t.Errorf("%s not printed:\n%s", name, p.stdout)
		}
	}
	if env[envPID] != strconv.Itoa(p.cmd.Process.Pid) {
		t.Errorf("%s=%s, want the process %d", envPID, env[envPID], p.cmd.Process.Pid)
	}
	checkPrivate(t, filepath.Dir(env[envKey]), env[envKey], env[envAPIKey], env[envClientSecretFile], env[envPATFile])

	ctx := context.Background()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	iss := env[envIssuer]

	key, err := serviceuser.ReadKeyFile(env[envKey])
	if err != nil {
		t.Fatal(err)
	}
	cfg := serviceuser.Config{Key: key, Issuer: iss, HTTPClient: hc}
	plain, err := cfg.Token(ctx)
	if err != nil {
		t.Fatalf("token with the key file: %v", err)
	}

	secret, err := filewatch.NewSecretSource(env[envClientSecretFile])
	if err != nil {
		t.Fatal(err)
	}
	cc := serviceuser.ClientCredentialsConfig{ClientID: env[envClientID], ClientSecret: secret, Issuer: iss, HTTPClient: hc}
	if _, err := cc.Token(ctx); err != nil {
		t.Fatalf("token with the client secret: %v", err)
	}

	pat, err := serviceuser.ReadPAT(env[envPATFile])
	if err != nil {
		t.Fatal(err)
	}
	info, err := userinfo.Fetch(ctx, serviceuser.PATConfig{PAT: pat, HTTPClient: hc}.Client(ctx), iss+"/oidc/v1/userinfo")
	if err != nil {
		t.Fatalf("userinfo with the personal access token: %v", err)
	}
	if info.Subject != key.UserID {
		t.Errorf("the personal access token is of %q, want the service user %q", info.Subject, key.UserID)
	}

	checkIntrospection(t, env, cfg, plain.AccessToken, hc)
	checkAdminFail(t, env[envAdmin], cfg, hc)

	// Token requests so far: key, client secret, key with the project's
	// audience, the failed one and the one after it.
	if code, st := adminCall(t, hc, http.MethodGet, env[envAdmin]+"/admin/stats"); code != http.StatusOK ||
		st["token_requests"] != 5.0 || st["issued_tokens"] != 4.0 || st["introspection_requests"] != 2.0 {
		t.Errorf("stats: %d %v, want 5 token requests, 4 issued, 2 introspections", code, st)
	}

	if code := p.stop(t, os.Interrupt); code != exitOK {
		t.Fatalf("exit code %d after SIGINT, want 0; stderr:\n%s", code, p.stderr)
	}
	checkGone(t, env)
	if !strings.Contains(p.stderr.String(), "stopped (token requests: 5)") {
		t.Errorf("stderr:\n%s", p.stderr)
	}
}

// checkIntrospection checks that the API application's key introspects a
// token asked for with the project's audience as active, and one without
// as inactive, as ZITADEL does.
func checkIntrospection(t *testing.T, env map[string]string, cfg serviceuser.Config, plain string, hc *http.Client) {
	t.Helper()
	ctx := context.Background()
	cfg.Scopes = []string{"openid", scope.ProjectAudience(env[envProjectID])}
	withAudience, err := cfg.Token(ctx)
	if err != nil {
		t.Fatalf("token with the project's audience: %v", err)
	}
	appKey, err := serviceuser.ReadKeyFile(env[envAPIKey])
	if err != nil {
		t.Fatal(err)
	}
	in, err := introspection.Config{Key: appKey, Issuer: env[envIssuer], HTTPClient: hc}.NewIntrospector(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for tok, want := range map[string]bool{withAudience.AccessToken: true, plain: false} {
		res, err := in.Introspect(ctx, tok)
		if err != nil {
			t.Fatalf("introspection: %v", err)
		}
		if res.Active != want {
			t.Errorf("introspection: active %v, want %v (scope %q)", res.Active, want, res.Scope)
		}
	}
}

// checkAdminFail fails the next token request at the admin endpoint: the
// library's one-shot Token gets ZITADEL's 500 Errors.Internal, the request
// after it a token.
func checkAdminFail(t *testing.T, admin string, cfg serviceuser.Config, hc *http.Client) {
	t.Helper()
	if code, body := adminCall(t, hc, http.MethodPost, admin+"/admin/fail?n=1"); code != http.StatusOK {
		t.Fatalf("POST /admin/fail: %d %v", code, body)
	}
	_, err := cfg.Token(context.Background())
	var te *serviceuser.TokenError
	if !errors.As(err, &te) || te.StatusCode != http.StatusInternalServerError || te.Description != "Errors.Internal" {
		t.Fatalf("token after POST /admin/fail?n=1: %v, want a TokenError 500 Errors.Internal", err)
	}
	if _, err := cfg.Token(context.Background()); err != nil {
		t.Fatalf("the fault outlived its one request: %v", err)
	}
}

// checkGone checks that a stopped fake left nothing: its ports are closed
// and its temporary directory removed.
func checkGone(t *testing.T, env map[string]string) {
	t.Helper()
	for _, base := range []string{env[envIssuer], env[envAdmin]} {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := net.DialTimeout("tcp", u.Host, 5*time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the command exited", base)
		}
	}
	if _, err := os.Stat(filepath.Dir(env[envKey])); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary credentials directory not removed: %v", err)
	}
}

// TestBinaryFlagsAndSIGTERM turns the knobs by flags, without an admin
// endpoint, into a directory the user names, and stops with SIGTERM.
func TestBinaryFlagsAndSIGTERM(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "creds")
	p := startFake(t, buildFake(t), "-listen", "127.0.0.1:0", "-admin", "", "-dir", dir,
		"-fail", "1", "-fail-status", "503", "-token-lifetime", "60s")
	if _, ok := p.env[envAdmin]; ok {
		t.Errorf("-admin \"\" printed %s", envAdmin)
	}
	if p.env[envKey] != filepath.Join(dir, fileServiceUser) {
		t.Errorf("%s=%s, not in -dir %s", envKey, p.env[envKey], dir)
	}
	key, err := serviceuser.ReadKeyFile(p.env[envKey])
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	cfg := serviceuser.Config{Key: key, Issuer: p.env[envIssuer], HTTPClient: hc}
	var te *serviceuser.TokenError
	if _, err := cfg.Token(context.Background()); !errors.As(err, &te) || te.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("first token with -fail 1 -fail-status 503: %v", err)
	}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(tok.Expiry); left > time.Minute || left < 50*time.Second {
		t.Errorf("token valid for %s with -token-lifetime 60s", left)
	}
	if code := p.stop(t, syscall.SIGTERM); code != exitOK {
		t.Fatalf("exit code %d after SIGTERM, want 0; stderr:\n%s", code, p.stderr)
	}
	if _, err := os.Stat(p.env[envKey]); err != nil {
		t.Errorf("the credentials in -dir were removed at exit: %v", err)
	}
}
