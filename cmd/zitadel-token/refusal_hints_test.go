package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// TestManagerRoleMissing checks that api and doctor name the missing
// manager role for a user with no membership (ZITADEL's 404 "membership not
// found") as for one whose role lacks the permission (403).
func TestManagerRoleMissing(t *testing.T) {
	f := newSecretFixture(t)
	iss := f.srv.Issuer()
	for _, c := range []struct {
		membership serviceusertest.Membership
		status     string
		want       []string
	}{
		{serviceusertest.MembershipNone, "HTTP 404", []string{"no manager role", "membership not found", "ORG_OWNER"}},
		{serviceusertest.MembershipWithoutPermission, "HTTP 403", []string{"lacks the permission", "ORG_OWNER"}},
	} {
		f.srv.SetMembership(f.user.UserID, c.membership)
		for name, run := range map[string]func() result{
			"key": func() result {
				return f.run(t, nil, "api", "-key", f.keyPath, "-issuer", iss, "/management/v1/orgs/me")
			},
			"PAT": func() result {
				return f.run(t, map[string]string{envPAT: f.pat}, "api", "-issuer", iss, "/management/v1/orgs/me")
			},
		} {
			r := run()
			checkCode(t, r, exitRefused)
			for _, w := range append(c.want, c.status) {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("api with %s, membership %d: stderr %q does not say %q", name, c.membership, r.stderr, w)
				}
			}
			if strings.Contains(r.stderr, "PATH") {
				t.Errorf("api with %s: stderr %q blames the path", name, r.stderr)
			}
		}
		out := f.doctor(t, exitChecks)
		for _, w := range c.want {
			checkLine(t, out, "management", statusFail, w)
		}
	}
	// A path that does not exist still gets the path's hint.
	f.srv.SetMembership(f.user.UserID, serviceusertest.MembershipOwner)
	r := f.run(t, nil, "api", "-key", f.keyPath, "-issuer", iss, "/management/v1/nowhere")
	checkCode(t, r, exitRefused)
	if !strings.Contains(r.stderr, "check PATH") {
		t.Errorf("unknown path: stderr %q", r.stderr)
	}
}

// TestWrongHostNamesTheInstanceDomain checks what the tool says when
// -issuer's host is not the instance's domain: ZITADEL's 404 names its
// external domain, which the tool passes on, and doctor does not claim a
// token was refused when no token request was sent.
func TestWrongHostNamesTheInstanceDomain(t *testing.T) {
	c := newInCluster(t)
	_, port, _ := strings.Cut(c.srv.ListenerHost(), ":")
	want := `"localhost"`
	suggested := "http://localhost:" + port

	r := c.run(t, nil, "doctor", "-key", c.keyPath, "-issuer", c.internal)
	checkCode(t, r, exitChecks)
	checkLine(t, r.stdout, "discovery", statusFail, want)
	checkLine(t, r.stdout, "discovery", statusFail, "-issuer "+suggested)
	checkLine(t, r.stdout, "discovery", statusFail, "-address "+c.internal)
	checkLine(t, r.stdout, "token", statusSkip, "no token request")
	if strings.Contains(r.stdout, "refused a token") {
		t.Errorf("doctor says a token was refused:\n%s", r.stdout)
	}
	if n := c.srv.TokenRequests(); n != 0 {
		t.Errorf("%d token requests reached ZITADEL", n)
	}

	for name, run := range map[string]func() result{
		"token": func() result { return c.run(t, nil, "token", "-key", c.keyPath, "-issuer", c.internal) },
		"token -token-url": func() result {
			return c.run(t, nil, "token", "-key", c.keyPath, "-issuer", c.internal, "-token-url", c.internal+"/oauth/v2/token")
		},
		"userinfo": func() result { return c.run(t, nil, "userinfo", "-key", c.keyPath, "-issuer", c.internal) },
		"api": func() result {
			return c.run(t, nil, "api", "-key", c.keyPath, "-issuer", c.internal, "/management/v1/orgs/me")
		},
		"api with a PAT": func() result {
			return c.run(t, map[string]string{envPAT: c.pat}, "api", "-issuer", c.internal, "/management/v1/orgs/me")
		},
		"doctor with a PAT": func() result { return c.run(t, map[string]string{envPAT: c.pat}, "doctor", "-issuer", c.internal) },
		"doctor -token-url": func() result {
			return c.run(t, nil, "doctor", "-key", c.keyPath, "-issuer", c.internal, "-token-url", c.internal+"/oauth/v2/token")
		},
		"api through a host": func() result {
			return c.run(t, nil, "api", "-key", c.keyPath, "-issuer", c.internal, "-address", c.address, "/management/v1/orgs/me")
		},
	} {
		r := run()
		out := r.stdout + r.stderr
		if r.code == exitOK || !strings.Contains(out, want) || strings.Contains(out, "check PATH") {
			t.Errorf("%s: exit %d, output does not name the instance's domain %s:\n%s", name, r.code, want, out)
		}
		if strings.Contains(out, "set Address") {
			t.Errorf("%s: output names the library's field, not the flag:\n%s", name, out)
		}
	}
}

// TestWrongHostAnswerIsBounded checks that the host names taken from an
// "Instance not found" answer are escaped and shortened.
func TestWrongHostAnswerIsBounded(t *testing.T) {
	domain := "evil\x1b[2K\r" + strings.Repeat("x", 5000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "unable to set instance using origin &{"+domain+"  http} (ExternalDomain is "+domain+
			"): ID=QUERY-1kIjX Message=Instance not found. Make sure you got the domain right.")
	}))
	t.Cleanup(srv.Close)
	f := newSecretFixture(t)
	for _, args := range [][]string{
		{"doctor", "-key", f.keyPath, "-issuer", srv.URL},
		{"api", "-issuer", srv.URL, "/management/v1/orgs/me"},
		{"token", "-key", f.keyPath, "-issuer", srv.URL},
	} {
		r := f.run(t, map[string]string{envPAT: f.pat}, args...)
		if r.code == exitOK {
			t.Fatalf("%v: exit 0", args)
		}
		if args[0] == "api" {
			r.stdout = "" // the answer itself, printed as it came to a file or a pipe
		}
		checkNoRawControl(t, r)
		for _, l := range strings.Split(r.stdout+r.stderr, "\n") {
			if len(l) > 2000 {
				t.Errorf("%v: a line of %d bytes: %.200s...", args, len(l), l)
			}
		}
	}
}

// TestDoctorManagementAnswerIsNoOrganization checks that doctor does not
// pass the Management API check on a 200 answer that holds no organization,
// as a web app's catch-all page gives.
func TestDoctorManagementAnswerIsNoOrganization(t *testing.T) {
	f := newSecretFixture(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/openid-configuration" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"issuer":"http://`+r.Host+`"}`)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!doctype html><title>My App</title>")
	}))
	t.Cleanup(srv.Close)
	r := f.run(t, map[string]string{envPAT: f.pat}, "doctor", "-issuer", srv.URL)
	checkCode(t, r, exitChecks)
	checkLine(t, r.stdout, "management", statusFail, "no organization")
}
