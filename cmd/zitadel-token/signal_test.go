//go:build unix

package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
)

// hangingServer holds every request until the client goes away or the test
// ends, and sends on the returned channel once a request has arrived.
func hangingServer(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // lets the server notice the client going away
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	return srv.URL, arrived
}

func TestBinarySignal(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		sig  os.Signal
		want int
	}{{os.Interrupt, 130}, {syscall.SIGTERM, 143}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			url, arrived := hangingServer(t)
			args := []string{"-key", f.keyPath, "-issuer", f.srv.Issuer(), "-token-url", url + "/oauth/v2/token", "-timeout", "1h"}
			cmd, stdout, stderr := binaryCommand(t, "", nil, args...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case <-arrived:
			case err := <-exited:
				t.Fatalf("the tool ended before its request arrived: %v; stderr %q", err, stderr)
			}
			if err := cmd.Process.Signal(c.sig); err != nil {
				t.Fatal(err)
			}
			<-exited
			r := result{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
			f.checkOutput(t, args, r)
			checkCode(t, r, c.want)
			if r.stdout != "" || !strings.Contains(r.stderr, map[int]string{130: "interrupted", 143: "terminated"}[c.want]) {
				t.Errorf("stdout %q, stderr %q", r.stdout, r.stderr)
			}
		})
	}
}
