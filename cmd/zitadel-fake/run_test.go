package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// runInProcess runs the command in-process until the returned function
// cancels its context (what SIGINT and SIGTERM do) and returns its code.
// The export lines end when run closes standard output.
func runInProcess(t *testing.T, args ...string) (env map[string]string, stderr *lockedBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stdoutR, stdoutW := io.Pipe()
	stderr = &lockedBuffer{}
	code := make(chan int, 1)
	go func() { code <- run(ctx, args, stdoutW, stderr) }()
	out, err := io.ReadAll(stdoutR) // returns once run closes the pipe
	if err != nil {
		t.Fatal(err)
	}
	return parseExports(t, string(out)), stderr, func() int { cancel(); return <-code }
}

// TestRunServesUntilCancelled: the fake serves once the variables are
// printed, and stops with 0 when the context ends.
func TestRunServesUntilCancelled(t *testing.T) {
	env, stderr, stop := runInProcess(t, "-listen", "127.0.0.1:0", "-admin", "")
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	res, err := hc.Get(env[envIssuer] + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("discovery: %d", res.StatusCode)
	}
	if c := stop(); c != exitOK {
		t.Errorf("run returned %d after cancel, want 0; stderr:\n%s", c, stderr)
	}
	for _, want := range []string{"ZITADEL at " + env[envIssuer], "stopped (token requests: 0)"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
}

// TestRunDomain: -domain names the issuer, whatever the listener.
func TestRunDomain(t *testing.T) {
	env, _, stop := runInProcess(t, "-listen", "127.0.0.1:0", "-admin", "", "-domain", "zitadel.test:8080")
	defer stop()
	if got := env[envIssuer]; got != "http://zitadel.test:8080" {
		t.Errorf("%s=%s with -domain zitadel.test:8080", envIssuer, got)
	}
}

func TestRunExitCodes(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, c := range []struct {
		args       []string
		code       int
		stdout     string
		stderrPart string
	}{
		{[]string{"-h"}, exitOK, "Usage: zitadel-fake", ""},
		{[]string{"-listen", "nowhere"}, exitUsage, "", `-listen "nowhere" is not host:port (such as 127.0.0.1:8080, or port 0 for a free one) (see zitadel-fake -h)`},
		{[]string{"-listen", busy.Addr().String()}, exitFailure, "", "address already in use"},
		{[]string{"-listen", "127.0.0.1:0", "-admin", busy.Addr().String()}, exitFailure, "", "admin endpoint: listen tcp " + busy.Addr().String()},
	} {
		var stdout, stderr strings.Builder
		code := run(context.Background(), c.args, &stdout, &stderr)
		if code != c.code || !strings.HasPrefix(stdout.String(), c.stdout) || c.stdout == "" && stdout.Len() > 0 ||
			!strings.Contains(stderr.String(), c.stderrPart) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr with %q",
				c.args, code, stdout.String(), stderr.String(), c.code, c.stdout, c.stderrPart)
		}
	}
}

func TestReachableHost(t *testing.T) {
	for _, c := range []struct{ asked, addr, want string }{
		{"127.0.0.1:0", "127.0.0.1:4711", "127.0.0.1:4711"},
		{":8080", "[::]:8080", "127.0.0.1:8080"},
		{"0.0.0.0:0", "0.0.0.0:4711", "127.0.0.1:4711"},
		{"[::]:0", "[::]:4711", "[::1]:4711"},
		{"localhost:0", "127.0.0.1:4711", "localhost:4711"},
		{"[::1]:0", "[::1]:4711", "[::1]:4711"},
	} {
		addr, err := net.ResolveTCPAddr("tcp", c.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := reachableHost(c.asked, addr); got != c.want {
			t.Errorf("reachableHost(%q, %s) = %q, want %q", c.asked, c.addr, got, c.want)
		}
	}
}
