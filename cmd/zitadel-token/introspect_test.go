package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// introspectFixture adds an API application to a fixture, its key file on
// disk, and returns the arguments that introspect with it.
func introspectFixture(t *testing.T) (*fixture, *serviceusertest.Application, []string) {
	t.Helper()
	f := newFixture(t)
	app := f.srv.NewApplication()
	f.scope = "openid profile " + app.AudienceScope() // introspection needs the API's project in the audience; profile adds the username
	f.addPEM(t, app.KeyFile)
	appPath := writeFile(t, "app.json", app.KeyFile)
	return f, app, []string{"introspect", "-key", appPath, "-issuer", f.srv.Issuer()}
}

// userToken returns a token of the fixture's service user, obtained with the
// token subcommand.
func userToken(t *testing.T, f *fixture) string {
	t.Helper()
	args := []string{"token", "-key", f.keyPath, "-issuer", f.srv.Issuer()}
	if f.scope != "" {
		args = append(args, "-scope", f.scope)
	}
	return f.printedToken(t, nil, args...)
}

func TestIntrospect(t *testing.T) {
	f, _, args := introspectFixture(t)
	// The token expires its lifetime after the fake's clock read at issue,
	// in whole seconds: between these two instants.
	earliest := time.Now().Truncate(time.Second).Add(serviceusertest.DefaultTokenLifetime)
	jwt := userToken(t, f)
	latest := time.Now().Add(serviceusertest.DefaultTokenLifetime)
	pat := f.srv.NewPersonalAccessToken(f.user.UserID, time.Time{})
	f.addToken(pat)

	want := "active: true\nsub: " + f.user.UserID + "\nusername: " + f.user.Username + "\n"
	for _, c := range []struct {
		name, stdin string
		extra       []string
	}{
		{"-token", "", []string{"-token", jwt}},
		{"stdin", jwt + "\n", nil},
		{"-token -", "  " + jwt + "\r\n", []string{"-token", "-"}},
		{"-introspection-url", "", []string{"-token", jwt, "-introspection-url", f.srv.IntrospectionURL(), "-timeout", "5s"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := f.runInput(t, c.stdin, nil, append(slices.Clone(args), c.extra...)...)
			checkCode(t, r, exitOK)
			_, line, _ := strings.Cut(r.stdout, "\nexpires: ")
			line, ended := strings.CutSuffix(line, "\n")
			expires, err := time.Parse(time.RFC3339, line)
			if !strings.HasPrefix(r.stdout, want+"scope: openid profile ") || !ended || err != nil || !strings.HasSuffix(line, "Z") ||
				expires.Before(earliest) || expires.After(latest) || strings.Count(r.stdout, "\n") != 5 {
				t.Errorf("stdout %q, want %q, a scope line and an expiry (UTC) from %v to %v", r.stdout, want, earliest, latest)
			}
		})
	}

	// A personal access token is for ZITADEL's own APIs: not active for an API.
	checkCode(t, f.runInput(t, pat, nil, args...), exitInactive)

	// The environment variables stand for -key and -issuer.
	env := map[string]string{envKey: args[2], envIssuer: f.srv.Issuer()}
	checkCode(t, f.run(t, env, "introspect", "-token", jwt), exitOK)
}

func TestIntrospectJSON(t *testing.T) {
	f, app, args := introspectFixture(t)
	jwt := userToken(t, f)
	for _, extra := range [][]string{{"-json"}, {"-json", "-token", "-"}} {
		r := f.runInput(t, jwt, nil, append(slices.Clone(args), extra...)...)
		checkCode(t, r, exitOK)
		var got struct {
			Active   bool     `json:"active"`
			Sub      string   `json:"sub"`
			ClientID string   `json:"client_id"`
			Username string   `json:"username"`
			Scope    string   `json:"scope"`
			Iss      string   `json:"iss"`
			Aud      []string `json:"aud"`
			Exp      int64    `json:"exp"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("stdout %q: %v", r.stdout, err)
		}
		if !got.Active || got.Sub != f.user.UserID || got.Username != f.user.Username || got.Scope != f.scope ||
			got.Iss != f.srv.Issuer() || !slices.Contains(got.Aud, app.ClientID) || time.Until(time.Unix(got.Exp, 0)) < 11*time.Hour {
			t.Errorf("introspect -json printed %s", r.stdout)
		}
	}
}

func TestIntrospectInactive(t *testing.T) {
	f, _, args := introspectFixture(t)
	jwt := userToken(t, f)
	pat := f.srv.NewPersonalAccessToken(f.user.UserID, time.Time{})
	f.addToken(pat)
	f.srv.RevokeToken(jwt)
	f.srv.RevokeToken(pat)

	for _, tok := range []string{jwt, pat} {
		r := f.run(t, nil, append(slices.Clone(args), "-token", tok)...)
		checkCode(t, r, exitInactive)
		if r.stdout != "active: false\n" {
			t.Errorf("stdout %q, want %q", r.stdout, "active: false\n")
		}
		if !strings.Contains(r.stderr, "not active") || !strings.Contains(r.stderr, "refused the API application's key") {
			t.Errorf("stderr %q: must name both causes ZITADEL answers alike", r.stderr)
		}
	}

	r := f.runInput(t, jwt, nil, append(slices.Clone(args), "-json")...)
	checkCode(t, r, exitInactive)
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got["active"] != false {
		t.Errorf("introspect -json printed %q", r.stdout)
	}

	unknown := "no-such-token-0123456789"
	f.addToken(unknown)
	checkCode(t, f.runInput(t, unknown, nil, args...), exitInactive)
}

func TestIntrospectServiceUserKey(t *testing.T) {
	f, _, _ := introspectFixture(t)
	jwt := userToken(t, f)
	r := f.run(t, nil, "introspect", "-key", f.keyPath, "-issuer", f.srv.Issuer(), "-token", jwt)
	checkCode(t, r, exitKey)
	if !strings.Contains(r.stderr, `API application key (type "application")`) {
		t.Errorf("stderr %q does not say which key is needed", r.stderr)
	}
	if n := f.srv.IntrospectionRequests(); n != 0 {
		t.Errorf("%d introspection requests with a service user key", n)
	}
}

func TestIntrospectExitCodes(t *testing.T) {
	f, _, args := introspectFixture(t)
	jwt := userToken(t, f)
	appPath, iss := args[2], f.srv.Issuer()
	dead := "http://" + closedAddr(t)
	expired := writeFile(t, "expired.json", func() []byte {
		m := keyFields(t, readFileBytes(t, appPath))
		m["expirationDate"] = "2020-01-02T03:04:05Z"
		data, _ := json.Marshal(m)
		return data
	}())
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  int
	}{
		{"empty -token", "", []string{"introspect", "-key", appPath, "-issuer", iss, "-token", ""}, exitUsage},
		{"empty stdin", " \n", []string{"introspect", "-key", appPath, "-issuer", iss}, exitUsage},
		{"two tokens", jwt + " " + jwt, []string{"introspect", "-key", appPath, "-issuer", iss}, exitUsage},
		{"missing -issuer", jwt, []string{"introspect", "-key", appPath}, exitUsage},
		{"missing -key", jwt, []string{"introspect", "-issuer", iss}, exitUsage},
		{"plain http introspection URL", jwt, []string{"introspect", "-key", appPath, "-issuer", iss,
			"-introspection-url", "http://zitadel.example.com/oauth/v2/introspect"}, exitUsage},
		{"bad timeout", jwt, []string{"introspect", "-key", appPath, "-issuer", iss, "-timeout", "0s"}, exitUsage},
		{"expired key", jwt, []string{"introspect", "-key", expired, "-issuer", iss}, exitKey},
		{"server down", jwt, []string{"introspect", "-key", appPath, "-issuer", dead}, exitNetwork},
		{"introspection URL down", jwt, []string{"introspect", "-key", appPath, "-issuer", iss,
			"-introspection-url", dead + "/oauth/v2/introspect"}, exitNetwork},
		{"wrong introspection URL", jwt, []string{"introspect", "-key", appPath, "-issuer", iss,
			"-introspection-url", iss + "/nowhere"}, exitRefused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.runInput(t, c.stdin, nil, c.args...)
			checkCode(t, r, c.want)
			if r.stdout != "" {
				t.Errorf("stdout %q", r.stdout)
			}
		})
	}
	if n := f.srv.IntrospectionRequests(); n != 0 {
		t.Errorf("%d introspection requests reached the server", n)
	}

	// Every request of the lookup: a request without an answer is sent again, up to 6 in all.
	f.srv.FailNextIntrospection(6, serviceusertest.Fault{Status: http.StatusInternalServerError})
	checkCode(t, f.runInput(t, jwt, nil, args...), exitRefused)

	f.srv.FailNextIntrospection(6, serviceusertest.Fault{Hang: true})
	checkCode(t, f.runInput(t, jwt, nil, append(slices.Clone(args), "-timeout", "300ms")...), exitNetwork)
	checkCode(t, f.runInput(t, jwt, nil, args...), exitOK)
}

func TestBinaryIntrospect(t *testing.T) {
	f, _, args := introspectFixture(t)
	jwt := userToken(t, f)
	r := f.runBinaryInput(t, jwt+"\n", nil, args...)
	checkCode(t, r, exitOK)
	if !strings.HasPrefix(r.stdout, "active: true\nsub: "+f.user.UserID+"\n") {
		t.Errorf("stdout %q", r.stdout)
	}
	f.srv.RevokeToken(jwt)
	r = f.runBinaryInput(t, jwt, nil, append(slices.Clone(args), "-json")...)
	checkCode(t, r, exitInactive)
	if !strings.HasPrefix(r.stdout, `{"active":false`) {
		t.Errorf("stdout %q", r.stdout)
	}
	checkCode(t, f.runBinaryInput(t, jwt, nil, "introspect", "-key", f.keyPath, "-issuer", f.srv.Issuer()), exitKey)
}

// readingReader sends on reading when its first Read starts.
type readingReader struct {
	io.Reader
	once    sync.Once
	reading chan struct{}
}

func (r *readingReader) Read(p []byte) (int, error) {
	r.once.Do(func() { close(r.reading) })
	return r.Reader.Read(p)
}

func TestInterruptWhileReadingStandardInput(t *testing.T) {
	f, _, args := introspectFixture(t)
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() }) // ends the read left behind
	stdin := &readingReader{Reader: pr, reading: make(chan struct{})}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append(args, "-introspection-url", f.srv.IntrospectionURL()), stdin, &stdout, &stderr)
	}()
	<-stdin.reading
	cancel(&stopped{"interrupted", exitInterrupted})
	r := result{<-done, stdout.String(), stderr.String()}
	f.checkOutput(t, args, r)
	checkCode(t, r, exitInterrupted)
	if r.stderr != "zitadel-token: interrupted\n" {
		t.Errorf("stderr %q", r.stderr)
	}
}
