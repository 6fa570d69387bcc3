package main

import (
	"os/exec"
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
