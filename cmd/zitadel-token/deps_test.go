package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestTheFakeIsNotLinked checks that the installed command carries neither
// the fake ZITADEL nor net/http/httptest: they belong to tests and to
// examples/demo, not to a tool that holds credentials.
func TestTheFakeIsNotLinked(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Env = baseEnv
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(pkg, "serviceusertest") || strings.Contains(pkg, "httptest") {
			t.Errorf("zitadel-token links %s", pkg)
		}
	}
}

// TestNoInternalPackageIsImported checks that the command imports the
// library's public packages only, as a program of a user does: what it
// needs of the library is there for every user, and an internal package
// may change without a thought for the command. (The public packages
// import internal ones; the command's own imports are checked, on every
// platform's files.)
func TestNoInternalPackageIsImported(t *testing.T) {
	const internal = "github.com/go-serviceuser/serviceuser/internal/"
	for _, goos := range []string{"linux", "darwin", "windows"} {
		for _, pkg := range commandImports(t, goos) {
			if strings.HasPrefix(pkg, internal) {
				t.Errorf("zitadel-token imports %s on %s", pkg, goos)
			}
		}
	}
}

// commandImports lists the packages the command's own files import when
// built for goos.
func commandImports(t *testing.T, goos string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, ".")
	cmd.Env = append(slices.Clip(baseEnv), "GOOS="+goos)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}
