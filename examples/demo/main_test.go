package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// checkLines checks the demo's output line by line against patterns: a
// line that shows anything else, such as a token or the key, fails.
func checkLines(t *testing.T, out string, patterns ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(patterns) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(patterns), out)
	}
	for i, p := range patterns {
		if !regexp.MustCompile("^demo: " + p + "$").MatchString(lines[i]) {
			t.Errorf("line %d: %q does not match %q", i+1, lines[i], p)
		}
	}
}

// demoLines are the lines after the first of a run that works, for user.
func demoLines(userID, keyID string) []string {
	return []string{
		`service user ` + userID + ` with key ` + keyID + ` \(RSA-2048\)`,
		`fetched a Bearer token valid for 11h59m5\ds \(1 token request\)`,
		`userinfo answered 200: \{"sub":"` + userID + `"\}`,
		`3 more Token\(\) calls served from the cache \(still 1 token request\)`,
		`ok`,
	}
}

func TestDemoStartsAFakeWithoutEnvironment(t *testing.T) {
	t.Setenv(envIssuer, "")
	t.Setenv(envKey, "")
	var out strings.Builder
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	checkLines(t, out.String(), append([]string{
		`ZITADEL_ISSUER and ZITADEL_KEY not set: started a fake ZITADEL in this process at http://127\.0\.0\.1:\d+`},
		demoLines(`\d+`, `\d+`)...)...)
}

// TestDemoUsesTheEnvironment runs the demo against an instance named by
// the variables, the key given as a path and as JSON: its own count of
// token requests is the server's.
func TestDemoUsesTheEnvironment(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	user := srv.NewServiceUser()
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, user.KeyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, key := range []string{path, string(user.KeyFile)} {
		t.Setenv(envIssuer, srv.Issuer())
		t.Setenv(envKey, key)
		var out strings.Builder
		if err := run(context.Background(), &out); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		checkLines(t, out.String(), append([]string{
			`using the ZITADEL at ` + regexp.QuoteMeta(srv.Issuer()) + ` \(\$ZITADEL_ISSUER, key from \$ZITADEL_KEY\)`},
			demoLines(user.UserID, user.KeyID)...)...)
		if n := srv.TokenRequests(); n != i+1 {
			t.Errorf("the server saw %d token requests after %d runs that each said 1", n, i+1)
		}
	}
}

func TestDemoRefusesHalfAConfiguration(t *testing.T) {
	for _, set := range []string{envIssuer, envKey} {
		t.Setenv(envIssuer, "")
		t.Setenv(envKey, "")
		t.Setenv(set, "x")
		var out strings.Builder
		err := run(context.Background(), &out)
		if err == nil || err.Error() != "set both ZITADEL_ISSUER and ZITADEL_KEY, or neither for a fake ZITADEL" || out.Len() != 0 {
			t.Errorf("only %s set: %v, output %q", set, err, out.String())
		}
	}
}

// TestDemoReportsARefusal: a token request the server refuses ends the
// demo with the library's error, after the lines that came before it.
func TestDemoReportsARefusal(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	user := srv.NewServiceUser()
	srv.FailNext(1, serviceusertest.Fault{Status: 400, Body: `{"error":"invalid_grant","error_description":"Errors.User.NotActive"}`})
	t.Setenv(envIssuer, srv.Issuer())
	t.Setenv(envKey, string(user.KeyFile))
	var out strings.Builder
	err := run(context.Background(), &out)
	var te *serviceuser.TokenError
	if !errors.As(err, &te) || te.Code != "invalid_grant" {
		t.Fatalf("%v, want the server's invalid_grant", err)
	}
	checkLines(t, out.String(), `using the ZITADEL at .*`, demoLines(user.UserID, user.KeyID)[0])
}
