package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The built binary, for the end-to-end tests.
var (
	binDir    string
	buildOnce sync.Once
	binPath   string
	buildErr  error
	// baseEnv is the environment the tests started with, for go and the
	// built tool.
	baseEnv []string
)

func TestMain(m *testing.M) {
	baseEnv = os.Environ()
	for _, kv := range baseEnv { // the tool sees only what each test gives it
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "ZITADEL_") || slices.Contains(toolVariables, name) {
			os.Unsetenv(name)
		}
	}
	dir, err := os.MkdirTemp("", "zitadel-token-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines outlived the tests:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// toolBinary builds the tool once for all tests that need it.
func toolBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		path := filepath.Join(binDir, "zitadel-token")
		if runtime.GOOS == "windows" {
			path += ".exe"
		}
		cmd := exec.Command("go", "build", "-o", path, ".")
		cmd.Env = baseEnv
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		binPath = path
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the tool with env as the whole environment (see setEnvironment)
// and checks what every run must respect.
func (f *fixture) run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return f.runInput(t, "", env, args...)
}

// runInput is run with stdin as standard input.
func (f *fixture) runInput(t *testing.T, stdin string, env map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	setEnvironment(t, env)
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &stdout, &stderr)
	r := result{code, stdout.String(), stderr.String()}
	f.checkOutput(t, args, r)
	return r
}

// printedToken runs the tool, which must exit 0, and returns the token it
// printed, which from then on no output may hold where it must not appear.
func (f *fixture) printedToken(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	r := f.run(t, env, args...)
	checkCode(t, r, exitOK)
	tok := strings.TrimSuffix(r.stdout, "\n")
	f.addToken(tok)
	return tok
}

// checkOutput checks the rules on stderr and on secrets.
func (f *fixture) checkOutput(t *testing.T, args []string, r result) {
	t.Helper()
	switch {
	case len(args) == 0:
		if r.code != exitUsage || r.stdout != "" || r.stderr != usageText() {
			t.Errorf("without arguments: exit %d, stdout %q, stderr %q; want exit 2 and the usage on stderr", r.code, r.stdout, r.stderr)
		}
	case r.code == exitOK && r.stderr != "":
		t.Errorf("exit 0 with stderr %q", r.stderr)
	case r.code != exitOK && (!strings.HasPrefix(r.stderr, "zitadel-token: ") || strings.Count(r.stderr, "\n") != 1):
		t.Errorf("exit %d: stderr is not one 'zitadel-token: ' line: %q", r.code, r.stderr)
	}
	for _, s := range append(f.pem, "PRIVATE KEY") {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("output contains key material %q", s)
		}
	}
	printsToken := subcommand(args) == "token"
	for _, tok := range f.knownTokens() {
		if strings.Contains(r.stderr, tok) || (!printsToken && strings.Contains(r.stdout, tok)) {
			t.Errorf("an access token leaked: stdout %q, stderr %q", r.stdout, r.stderr)
		}
	}
}

func subcommand(args []string) string {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0]
	}
	return "token"
}

// checkCode fails the test unless r exited with want.
func checkCode(t *testing.T, r result, want int) {
	t.Helper()
	if r.code != want {
		t.Fatalf("exit code %d, want %d; stdout %q; stderr %q", r.code, want, r.stdout, r.stderr)
	}
}

// runBinary runs the built tool with the test's environment minus the
// variables the tool reads, plus an empty cache directory and env.
func (f *fixture) runBinary(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return f.runBinaryInput(t, "", env, args...)
}

// runBinaryInput is runBinary with stdin as standard input.
func (f *fixture) runBinaryInput(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	cmd, stdout, stderr := binaryCommand(t, stdin, env, args...)
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running the tool: %v", err)
	}
	r := result{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
	f.checkOutput(t, args, r)
	return r
}

// runDeadline bounds each run of the tool: far more than a run takes on a
// busy machine, and still an end to a tool that hangs.
const runDeadline = 2 * time.Minute

// toolEnv is the environment of a built command: the test's without the
// variables of ZITADEL, and with a cache of the test's own, never the
// user's.
func toolEnv(t *testing.T) []string {
	var env []string
	for _, kv := range baseEnv {
		if !strings.HasPrefix(kv, "ZITADEL_") && !strings.HasPrefix(kv, "XDG_CACHE_HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, "XDG_CACHE_HOME="+t.TempDir())
}

// binaryCommand prepares a run of the built tool, killed at runDeadline.
// The tool is built first, so that building does not count against the
// deadline.
func binaryCommand(t *testing.T, stdin string, env []string, args ...string) (cmd *exec.Cmd, stdout, stderr *bytes.Buffer) {
	t.Helper()
	bin := toolBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	t.Cleanup(cancel)
	cmd = exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = time.Second // the pipes are not held open past the kill
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(toolEnv(t), env...)
	stdout, stderr = new(bytes.Buffer), new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd, stdout, stderr
}

// toolVariables are the environment variables the tool reads, which every
// run sets anew; variables named by -key-env are added by the runs.
var toolVariables = []string{envKey, envIssuer, envClientID, envClientSecret, envPAT, envAddress,
	envInsecurePlainHTTP, "XDG_CACHE_HOME", "HOME", "LocalAppData"}

// setByRuns are the other variables that runs have set.
var setByRuns = map[string]bool{}

// setEnvironment makes env the whole environment the tool sees until the
// next run: every variable it reads is unset unless env sets it. The end
// of the test restores the process's environment.
func setEnvironment(t *testing.T, env map[string]string) {
	t.Helper()
	names := slices.Clone(toolVariables)
	for name := range env {
		setByRuns[name] = true
	}
	for name := range setByRuns {
		names = append(names, name)
	}
	for _, name := range names {
		t.Setenv(name, "") // restored when the test ends
		os.Unsetenv(name)
	}
	for name, value := range env {
		os.Setenv(name, value)
	}
}
