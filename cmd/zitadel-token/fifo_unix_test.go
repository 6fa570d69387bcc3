//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestBinaryInterruptWhileReadingAPipe checks that Ctrl-C ends the tool
// while it waits on a named pipe given as a file (-key, -pat-file, -d @FILE)
// that nobody writes to, as with "-key <(command)" whose command waits.
func TestBinaryInterruptWhileReadingAPipe(t *testing.T) {
	f := newFixture(t)
	for name, args := range map[string]func(pipe string) []string{
		"-key":      func(p string) []string { return []string{"inspect", "-key", p} },
		"-pat-file": func(p string) []string { return []string{"userinfo", "-pat-file", p, "-issuer", f.srv.Issuer()} },
		"-d @FILE": func(p string) []string {
			return []string{"api", "-key", f.keyPath, "-issuer", f.srv.Issuer(), "-d", "@" + p, "/management/v1/orgs/me"}
		},
	} {
		t.Run(name, func(t *testing.T) {
			pipe := filepath.Join(t.TempDir(), "pipe")
			if err := syscall.Mkfifo(pipe, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd, stdout, stderr := binaryCommand(t, "", nil, args(pipe)...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			// Opening the pipe for writing returns once the tool has opened
			// it for reading; the tool then waits for data that never comes.
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
		})
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
