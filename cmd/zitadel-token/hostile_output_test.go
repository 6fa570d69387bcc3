package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// Payloads a hostile server puts in every value the tool may echo: each
// would rewrite what a terminal shows if it reached it raw.
var hostilePayloads = map[string]string{
	"erase line":     "\x1b[2K\rok    management  all good",
	"window title":   "\x1b]0;owned\x07",
	"C1 CSI":         "\u009b31mred",
	"bidi override":  "evil\u202egnp.exe",
	"isolate":        "\u2066hidden\u2069",
	"line separator": "one\u2028ok    two",
	"DEL and BS":     "abc\x7f\x08\x08ok",
}

// rawControl returns the first character of s that a terminal would act on
// rather than show, or "" when there is none. Line feeds and tabs are layout.
// The list is written out here, not taken from the code under test.
func rawControl(s string) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		bad := false
		switch {
		case r == utf8.RuneError && size == 1:
			bad = true
		case r == '\n' || r == '\t':
		case r < 0x20, r >= 0x7f && r <= 0x9f:
			bad = true
		case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e,
			r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029, r == 0xfeff:
			bad = true
		}
		if bad {
			return fmt.Sprintf("%q at byte %d", s[i:i+size], i)
		}
		i += size
	}
	return ""
}

// checkNoRawControl fails when stdout or stderr holds a raw control character.
func checkNoRawControl(t *testing.T, r result) {
	t.Helper()
	for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
		if c := rawControl(out); c != "" {
			t.Errorf("%s holds the raw control character %s:\n%q", name, c, out)
		}
	}
}

// How a hostileServer lies.
const (
	echoes  = iota // accepts every request and echoes payload in its answers
	refuses        // and its token endpoint refuses with payload as the description
	renames        // and its discovery document names payload as the issuer
)

// hostileServer is a ZITADEL look-alike that accepts every request and puts
// payload into every value it answers with: claims, ids, subjects, error
// descriptions; mode says where else.
func hostileServer(t *testing.T, payload string, mode int) string {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			issuer := srv.URL
			if mode == renames {
				issuer = payload
			}
			enc.Encode(map[string]any{"issuer": issuer, "token_endpoint": srv.URL + "/oauth/v2/token",
				"userinfo_endpoint": srv.URL + "/oidc/v1/userinfo", "introspection_endpoint": srv.URL + "/oauth/v2/introspect",
				"jwks_uri": srv.URL + "/oauth/v2/keys"})
		case "/oauth/v2/token":
			if mode == refuses {
				w.WriteHeader(http.StatusBadRequest)
				enc.Encode(map[string]string{"error": "invalid_request", "error_description": payload})
				return
			}
			enc.Encode(map[string]any{"access_token": "hostile-access-token-0123456789", "token_type": "Bearer", "expires_in": 3600})
		case "/oidc/v1/userinfo":
			enc.Encode(map[string]any{"sub": payload, "name": payload, payload: "key"})
		case "/oauth/v2/introspect":
			enc.Encode(map[string]any{"active": true, "sub": payload, "username": payload, "scope": payload,
				"client_id": payload, "exp": 4102444800})
		case "/management/v1/orgs/me":
			enc.Encode(map[string]any{"org": map[string]any{"id": payload, "name": payload}})
		default:
			w.WriteHeader(http.StatusNotFound)
			enc.Encode(map[string]any{"code": 5, "message": payload})
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestHostileValuesAreEscaped runs every subcommand that echoes a server's
// values against a server that fills them with terminal controls.
func TestHostileValuesAreEscaped(t *testing.T) {
	f, app, _ := introspectFixture(t)
	appKey := writeFile(t, "app.json", app.KeyFile)
	for name, payload := range hostilePayloads {
		t.Run(name, func(t *testing.T) {
			iss := hostileServer(t, payload, echoes)
			refusing := hostileServer(t, payload, refuses)
			renaming := hostileServer(t, payload, renames)
			key := []string{"-key", f.keyPath, "-no-cache"}
			for _, args := range [][]string{
				append([]string{"userinfo", "-issuer", iss}, key...),
				append([]string{"token", "-issuer", refusing}, key...),
				append([]string{"token", "-json", "-issuer", iss}, key...),
				append([]string{"api", "-issuer", iss, "/management/v1/orgs/me"}, key...),
				append([]string{"api", "-issuer", iss, "/management/v1/nowhere"}, key...),
				append([]string{"api", "-issuer", refusing, "/management/v1/orgs/me"}, key...),
				{"doctor", "-issuer", iss, "-key", f.keyPath, "-app-key", appKey},
				{"doctor", "-issuer", refusing, "-key", f.keyPath},
				{"doctor", "-issuer", renaming, "-key", f.keyPath},
				{"introspect", "-issuer", iss, "-key", appKey, "-token", "some-token"},
				{"introspect", "-json", "-issuer", iss, "-key", appKey, "-token", "some-token"},
			} {
				r := f.run(t, nil, args...)
				if r.stdout+r.stderr == "" {
					t.Errorf("%v printed nothing", args)
				}
				checkNoRawControl(t, r)
			}
		})
	}
}

// TestJSONOutputStaysJSON checks that escaped JSON output still decodes to
// the server's values: escaping is lossless where the output is JSON.
func TestJSONOutputStaysJSON(t *testing.T) {
	f := newFixture(t)
	payload := hostilePayloads["bidi override"] + hostilePayloads["C1 CSI"] + hostilePayloads["erase line"]
	iss := hostileServer(t, payload, echoes)
	for _, args := range [][]string{
		{"userinfo", "-issuer", iss, "-key", f.keyPath, "-no-cache"},
		{"api", "-issuer", iss, "-key", f.keyPath, "-no-cache", "/management/v1/orgs/me"},
	} {
		r := f.run(t, nil, args...)
		checkCode(t, r, exitOK)
		checkNoRawControl(t, r)
		var v map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatalf("%v: stdout is not JSON: %v\n%s", args, err, r.stdout)
		}
		got := v["sub"]
		if org, ok := v["org"].(map[string]any); ok {
			got = org["id"]
		}
		if got != payload {
			t.Errorf("%v: the value decodes to %q, want the server's %q", args, got, payload)
		}
	}
}

// terminal is standard output whose Stat says it is a character device, as
// *os.File's does for a terminal.
type terminal struct{ strings.Builder }

func (*terminal) Stat() (os.FileInfo, error) { return charDevice{}, nil }

type charDevice struct{ os.FileInfo }

func (charDevice) Mode() os.FileMode { return os.ModeDevice | os.ModeCharDevice | 0o620 }

// TestAPIPlainTextAnswer pins down how api prints an answer that is not
// JSON: as it came when standard output is a file or a pipe (like curl, so
// that binary answers stay intact), escaped when it is a terminal.
func TestAPIPlainTextAnswer(t *testing.T) {
	body := "line one\n\x1b[2K\rok\tdone\u202e\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	f := newSecretFixture(t)
	env := map[string]string{envPAT: f.pat, envIssuer: srv.URL}
	r := f.run(t, env, "api", "/assets/v1/x")
	checkCode(t, r, exitOK)
	if r.stdout != body {
		t.Errorf("piped: stdout %q, want the answer as it came, %q", r.stdout, body)
	}

	var tty terminal
	var stderr strings.Builder
	code := run(t.Context(), []string{"api", "/assets/v1/x"}, strings.NewReader(""), &tty, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	if c := rawControl(tty.String()); c != "" {
		t.Errorf("terminal: stdout holds %s: %q", c, tty.String())
	}
	if want := "line one\n\\x1b[2K\\rok\tdone\\u202e\n"; tty.String() != want {
		t.Errorf("terminal: stdout %q, want %q", tty.String(), want)
	}
}
