package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAPIBodyOverTheLimit checks that a request body larger than api takes
// is refused before any request, never sent cut short.
func TestAPIBodyOverTheLimit(t *testing.T) {
	f := newSecretFixture(t)
	api, url := newAPIRecorder(t, http.StatusOK)
	env := map[string]string{envPAT: f.pat, envIssuer: url}
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, maxAPIBody+1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ stdin, data string }{
		"@FILE": {"", "@" + big},
		"@-":    {strings.Repeat(" ", maxAPIBody+1), "@-"},
	} {
		t.Run(name, func(t *testing.T) {
			r := f.runInput(t, c.stdin, env, "api", "-d", c.data, "/p")
			checkCode(t, r, exitUsage)
			if !strings.Contains(r.stderr, "MiB") {
				t.Errorf("stderr %q does not name the limit", r.stderr)
			}
		})
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.requests) != 0 {
		t.Errorf("%d requests sent with a body over the limit", len(api.requests))
	}
}

// TestAPIAnswerOverTheLimit checks that an answer larger than api reads
// is reported, not printed cut short with exit code 0.
func TestAPIAnswerOverTheLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.Copy(w, io.LimitReader(zeros{}, maxAPIAnswer+1))
	}))
	t.Cleanup(srv.Close)
	f := newSecretFixture(t)
	// 64 MiB through the race detector on a busy machine can take longer
	// than the default timeout; this test is about size, not time.
	r := f.run(t, map[string]string{envPAT: f.pat, envIssuer: srv.URL}, "api", "-timeout", "5m", "/big")
	if r.code == exitOK || r.stdout != "" || !strings.Contains(r.stderr, "MiB") {
		t.Errorf("exit %d, %d bytes on stdout, stderr %q; want an error naming the limit and nothing printed",
			r.code, len(r.stdout), r.stderr)
	}
}

// zeros reads as endless '0' characters.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}
