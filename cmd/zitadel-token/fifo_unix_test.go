//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCredentialPipeRefusedAtOnce checks that a named pipe given where a
// credential file belongs (-key, -pat-file) is refused at once, as the
// library's readers refuse every file that is not regular, instead of
// waiting for a writer that may never come.
func TestCredentialPipeRefusedAtOnce(t *testing.T) {
	f := newFixture(t)
	for name, args := range map[string]func(pipe string) []string{
		"-key":      func(p string) []string { return []string{"inspect", "-key", p} },
		"-pat-file": func(p string) []string { return []string{"userinfo", "-pat-file", p, "-issuer", f.srv.Issuer()} },
	} {
		t.Run(name, func(t *testing.T) {
			pipe := filepath.Join(t.TempDir(), "pipe")
			if err := syscall.Mkfifo(pipe, 0o600); err != nil {
				t.Fatal(err)
			}
			r := f.run(t, nil, args(pipe)...)
			checkCode(t, r, exitKey)
			if !strings.Contains(r.stderr, "not a regular file") {
				t.Errorf("stderr %q", r.stderr)
			}
		})
	}
}

// TestBinaryInterruptWhileReadingAPipe checks that Ctrl-C ends the tool
// while it waits on a named pipe given as -d @FILE that nobody writes to,
// as with "-d @<(command)" whose command waits.
func TestBinaryInterruptWhileReadingAPipe(t *testing.T) {
	f := newFixture(t)
	pipe := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd, stdout, stderr := binaryCommand(t, "", nil,
		"api", "-key", f.keyPath, "-issuer", f.srv.Issuer(), "-d", "@"+pipe, "/management/v1/orgs/me")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Opening the pipe for writing returns once the tool has opened it for
	// reading; the tool then waits for data that never comes.
	w, err := os.OpenFile(pipe, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	<-exited
	r := result{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
	checkCode(t, r, exitInterrupted)
	if r.stderr != "zitadel-token: interrupted\n" {
		t.Errorf("stderr %q", r.stderr)
	}
}

// TestAPIBodyFromAPipe checks that -d @FILE reads a named pipe, as
// "-d @<(command)" gives.
func TestAPIBodyFromAPipe(t *testing.T) {
	f := newSecretFixture(t)
	api, url := newAPIRecorder(t, 200)
	pipe := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		w, err := os.OpenFile(pipe, os.O_WRONLY, 0)
		if err == nil {
			w.WriteString(`{"from":"a pipe"}`)
			w.Close()
		}
	}()
	r := f.run(t, map[string]string{envPAT: f.pat, envIssuer: url}, "api", "-d", "@"+pipe, "/p")
	checkCode(t, r, exitOK)
	if got := api.last(t); got.body != `{"from":"a pipe"}` || !strings.HasPrefix(got.method, "POST") {
		t.Errorf("request %+v", got)
	}
}
