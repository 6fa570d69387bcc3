package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// runDeadline bounds a run of the built command: far more than a test
// takes on a busy machine, and still an end to a command that hangs.
const runDeadline = 2 * time.Minute

// buildFake builds the command into a directory of the test's own.
func buildFake(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), progName)
	if runtime.GOOS == "windows" {
		path += ".exe"
	}
	if out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return path
}

// fakeProcess is a running zitadel-fake with the variables it printed.
type fakeProcess struct {
	cmd    *exec.Cmd
	env    map[string]string
	stdout string
	stderr *lockedBuffer
	waited bool
}

// startFake starts the built command and reads its standard output to the
// end, which the command closes once it serves: the variables are then
// all printed and the fake is up.
func startFake(t *testing.T, bin string, args ...string) *fakeProcess {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	t.Cleanup(cancel)
	p := &fakeProcess{cmd: exec.CommandContext(ctx, bin, args...), stderr: &lockedBuffer{}}
	p.cmd.WaitDelay = time.Second
	p.cmd.Stderr = p.stderr
	for _, kv := range os.Environ() { // none of the caller's own settings
		if !strings.HasPrefix(kv, "ZITADEL_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !p.waited {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	out, err := io.ReadAll(stdout)
	if err != nil {
		t.Fatalf("reading standard output: %v", err)
	}
	p.stdout = string(out)
	p.env = parseExports(t, p.stdout)
	if p.env[envIssuer] == "" {
		t.Fatalf("no %s printed; stdout %q, stderr %q", envIssuer, p.stdout, p.stderr.String())
	}
	return p
}

// stop sends sig and waits for the command to exit, returning its code.
func (p *fakeProcess) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	err := p.cmd.Wait()
	p.waited = true
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("waiting for the command: %v", err)
	}
	return p.cmd.ProcessState.ExitCode()
}

// exportLine is one line the command prints: export NAME=value, the value
// bare or in single quotes.
var exportLine = regexp.MustCompile(`^export ([A-Z_]+)=(.*)$`)

// parseExports reads the export lines as a POSIX shell does, for the
// quoting shellQuote uses; any other line fails the test.
func parseExports(t *testing.T, out string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for line := range strings.Lines(out) {
		m := exportLine.FindStringSubmatch(strings.TrimSuffix(line, "\n"))
		if m == nil {
			t.Fatalf("standard output has a line that is not an export: %q", line)
		}
		v := m[2]
		if strings.HasPrefix(v, "'") {
			v = strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'"), `'\''`, "'")
		}
		env[m[1]] = v
	}
	return env
}

// adminCall calls the admin endpoint and decodes its JSON answer.
func adminCall(t *testing.T, client *http.Client, method, url string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %v", method, url, err)
	}
	return res.StatusCode, body
}

// lockedBuffer is a bytes.Buffer the command's output and the test can
// use at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// checkPrivate checks that only the owner can read the credentials.
func checkPrivate(t *testing.T, dir string, files ...string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return // no Unix modes
	}
	for path, want := range map[string]os.FileMode{dir: 0o700} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, mode %v, want %v", path, err, fi.Mode().Perm(), want)
		}
	}
	for _, f := range files {
		if filepath.Dir(f) != dir {
			t.Errorf("%s is not in %s", f, dir)
		}
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", f, err)
		}
	}
}
