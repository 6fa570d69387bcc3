//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-serviceuser/serviceuser"
)

// TestBinaryWithZitadelFake runs the two commands as zitadel-fake's help
// shows: a shell evaluates the fake's variables, then zitadel-token token
// without flags uses the one credential among them, the key file; the
// client secret and the personal access token are named by flags.
func TestBinaryWithZitadelFake(t *testing.T) {
	exports := startZitadelFake(t)
	keyPath := evalRun(t, exports, `printf %s "$ZITADEL_KEY"`).stdout
	key, err := serviceuser.ReadKeyFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}

	r := evalRun(t, exports, `exec "$TOOL" token`)
	checkCode(t, r, exitOK)
	if tok := strings.TrimSpace(r.stdout); tok == "" || strings.ContainsAny(tok, " \n") {
		t.Errorf("token printed %q", r.stdout)
	}
	r = evalRun(t, exports, `exec "$TOOL" userinfo`)
	checkCode(t, r, exitOK)
	var claims struct{ Sub string }
	if err := json.Unmarshal([]byte(r.stdout), &claims); err != nil || claims.Sub != key.UserID {
		t.Errorf("userinfo printed %q, want the service user %s of $ZITADEL_KEY", r.stdout, key.UserID)
	}

	r = evalRun(t, exports, `exec "$TOOL" token -client-id "$ZITADEL_CLIENT_ID" -client-secret-file "$ZITADEL_CLIENT_SECRET_FILE"`)
	checkCode(t, r, exitOK)
	r = evalRun(t, exports, `exec "$TOOL" token -pat-file "$ZITADEL_PAT_FILE"`)
	checkCode(t, r, exitOK)
	if pat := evalRun(t, exports, `cat "$ZITADEL_PAT_FILE"`).stdout; r.stdout != pat {
		t.Errorf("token -pat-file printed %q, want the token of the file", r.stdout)
	}
}

// startZitadelFake builds and starts zitadel-fake, stopped at the end of
// the test, and returns the export lines it printed.
func startZitadelFake(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "zitadel-fake")
	build := exec.Command("go", "build", "-o", bin, "../zitadel-fake")
	build.Env = baseEnv
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, "-listen", "127.0.0.1:0", "-admin", "", "-dir", t.TempDir())
	cmd.Env = toolEnv(t)
	cmd.WaitDelay = time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		var ee *exec.ExitError
		if err := cmd.Wait(); err != nil && !errors.As(err, &ee) {
			t.Errorf("zitadel-fake: %v; stderr:\n%s", err, stderr.String())
		}
	})
	exports, err := io.ReadAll(stdout) // the fake closes it once it serves
	if err != nil || !strings.Contains(string(exports), "export ZITADEL_KEY=") {
		t.Fatalf("zitadel-fake printed %q (%v)", exports, err)
	}
	return string(exports)
}

// evalRun runs script in a POSIX shell after it evaluated exports, with
// the built tool as $TOOL, and checks its output as that of the tool.
func evalRun(t *testing.T, exports, script string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", `eval "$1" && `+script, "sh", exports)
	cmd.Env = append(toolEnv(t), "TOOL="+toolBinary(t))
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("sh: %v", err)
	}
	r := result{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
	(&fixture{}).checkOutput(t, []string{"token"}, r)
	return r
}
