package main

import (
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestEnvironment(t *testing.T) {
	c := &credentials{keyPath: "/d/k", apiKeyPath: "/d/a", secretPath: "/d/s", patPath: "/d/p", clientID: "cid", projectID: "42"}
	var out strings.Builder
	if err := printEnv(&out, environment("http://127.0.0.1:8080", "", c, 7)); err != nil {
		t.Fatal(err)
	}
	want := `export ZITADEL_ISSUER=http://127.0.0.1:8080
export ZITADEL_KEY=/d/k
export ZITADEL_API_KEY=/d/a
export ZITADEL_PROJECT_ID=42
export ZITADEL_CLIENT_ID=cid
export ZITADEL_CLIENT_SECRET_FILE=/d/s
export ZITADEL_PAT_FILE=/d/p
export ZITADEL_FAKE_PID=7
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	vars := environment("http://x", "http://127.0.0.1:9", c, 7)
	if v := vars[len(vars)-2]; v != (variable{envAdmin, "http://127.0.0.1:9"}) {
		t.Errorf("admin variable %v", v)
	}
}

// TestShellQuoteEvaluates evaluates the export lines in a POSIX shell: the
// shell must see every value exactly, whatever characters a path holds.
func TestShellQuoteEvaluates(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX shell")
	}
	values := []string{"/tmp/plain-path_1.json", "/tmp/with space/k.json", "it's", `$HOME "x" \n`, "a;b|c&d", "`id`", ""}
	var vars []variable
	var script strings.Builder
	for i, v := range values {
		name := "V" + string(rune('A'+i))
		vars = append(vars, variable{name, v})
		script.WriteString(`printf '%s\0' "$` + name + `"; `)
	}
	var exports strings.Builder
	if err := printEnv(&exports, vars); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", "-c", `eval "$1"; `+script.String(), "sh", exports.String()).Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !slices.Equal(got, values) {
		t.Errorf("the shell read %q from\n%s\nwant %q", got, exports.String(), values)
	}
	if shellQuote(values[0]) != values[0] {
		t.Errorf("a plain path is quoted: %s", shellQuote(values[0]))
	}
}
