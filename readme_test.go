package serviceuser_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// readmeFirstSnippet is the first code block of README.md, with the key file's
// path and the issuer as arguments. TestReadmeSnippetMatchesReadme keeps the
// two in step.
func readmeFirstSnippet(ctx context.Context, keyPath, issuer string) (tokenValid bool, status int) {
	key, err := serviceuser.ReadKeyFile(keyPath)
	if err != nil {
		log.Fatal(err)
	}
	cfg := serviceuser.Config{
		Key:    key,
		Issuer: issuer,
		Scopes: []string{"openid", scope.ZitadelAPI},
	}
	ts := cfg.TokenSource(ctx)
	defer ts.Close()
	tok, err := ts.Token()
	if err != nil {
		log.Fatal(err)
	}
	client := ts.Client()
	resp, err := client.Get(issuer + "/oidc/v1/userinfo")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	return tok.Valid(), resp.StatusCode
}

// The README's first snippet reads a token and makes one API call: one cache,
// so exactly one token request.
func TestReadmeSnippetMakesOneTokenRequest(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	keyPath := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(keyPath, srv.NewServiceUser().KeyFile, 0o600); err != nil {
		t.Fatal(err)
	}

	valid, status := readmeFirstSnippet(context.Background(), keyPath, srv.Issuer())

	if !valid || status != http.StatusOK {
		t.Fatalf("token valid %t, userinfo status %d; want true, 200", valid, status)
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Fatalf("token requests = %d, want 1 (one cache for the token and the client)", n)
	}
}

// Every code line of the README's first snippet appears in readmeFirstSnippet,
// once the literal path and issuer are replaced by its arguments.
func TestReadmeSnippetMatchesReadme(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```go\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("README.md has no go code block")
	}
	self, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	literals := strings.NewReplacer(
		`"https://my-instance.zitadel.cloud/oidc/v1/userinfo"`, `issuer + "/oidc/v1/userinfo"`,
		`"https://my-instance.zitadel.cloud"`, `issuer`,
		`"key.json"`, `keyPath`,
	)
	code := normalizeGo(string(self))
	for _, line := range strings.Split(string(block[1]), "\n") {
		line = normalizeGo(literals.Replace(line))
		if line != "" && !strings.Contains(code, line) {
			t.Errorf("README line %q is not in readmeFirstSnippet", line)
		}
	}
}

// normalizeGo drops // comments and collapses white space, which gofmt's
// alignment changes.
func normalizeGo(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "// "); i >= 0 {
			line = line[:i]
		}
		out = append(out, strings.Join(strings.Fields(line), " "))
	}
	return strings.Join(out, "\n")
}
