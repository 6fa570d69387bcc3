package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// doctorLines maps each check doctor reported to its lines.
func doctorLines(t *testing.T, out string) map[string][]string {
	t.Helper()
	lines := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 || (f[0] != statusOK && f[0] != statusFail && f[0] != statusSkip) {
			t.Fatalf("doctor line %q is not STATUS CHECK TEXT", l)
		}
		lines[f[1]] = append(lines[f[1]], l)
	}
	return lines
}

// checkLine fails unless doctor's check reported status with want in its line.
func checkLine(t *testing.T, out, check, status, want string) {
	t.Helper()
	for _, l := range doctorLines(t, out)[check] {
		if strings.HasPrefix(l, status+" ") && strings.Contains(l, want) {
			return
		}
	}
	t.Errorf("no %s line for %s containing %q in:\n%s", status, check, want, out)
}

func (f *fixture) doctor(t *testing.T, want int, args ...string) string {
	t.Helper()
	r := f.run(t, nil, append([]string{"doctor", "-key", f.keyPath, "-issuer", f.srv.Issuer()}, args...)...)
	checkCode(t, r, want)
	return r.stdout
}

func TestDoctorHealthy(t *testing.T) {
	f := newFixture(t)
	out := f.doctor(t, exitOK)
	for check, lines := range doctorLines(t, out) {
		for _, l := range lines {
			if strings.HasPrefix(l, statusFail) {
				t.Errorf("%s failed: %s", check, l)
			}
		}
	}
	checkLine(t, out, "discovery", statusOK, f.srv.Issuer())
	checkLine(t, out, "clock", statusOK, "offset")
	checkLine(t, out, "key", statusOK, "RSA-2048")
	checkLine(t, out, "token", statusOK, "openid")
	checkLine(t, out, "scope", statusOK, scope.ZitadelAPI)
	checkLine(t, out, "management", statusOK, f.user.OrgID)
	checkLine(t, out, "introspection", statusSkip, "-app-key")
	checkLine(t, f.doctor(t, exitOK, "-issuer", f.srv.Issuer()+"/"), "discovery", statusOK, "trailing slash")
}

func TestDoctorIntrospection(t *testing.T) {
	f, app, _ := introspectFixture(t)
	appKey := writeFile(t, "app.json", app.KeyFile)
	out := f.doctor(t, exitOK, "-app-key", appKey, "-scope", "openid "+scope.ZitadelAPI+" "+app.AudienceScope())
	checkLine(t, out, "introspection", statusOK, "active")
	checkLine(t, out, "scopes", statusOK, "together")

	out = f.doctor(t, exitChecks, "-app-key", appKey)
	checkLine(t, out, "introspection", statusFail, "audience")
	f.srv.RevokeKey(app.KeyID)
	out = f.doctor(t, exitChecks, "-app-key", appKey, "-scope", "openid "+scope.ZitadelAPI+" "+app.AudienceScope())
	checkLine(t, out, "introspection", statusFail, "wrong or deleted")
	out = f.doctor(t, exitChecks, "-app-key", f.keyPath)
	checkLine(t, out, "introspection", statusFail, "application")
}

func TestDoctorFaults(t *testing.T) {
	f := newFixture(t)
	f.srv.FailNext(1, serviceusertest.Fault{})
	out := f.doctor(t, exitChecks)
	checkLine(t, out, "token", statusFail, "Errors.Internal")
	checkLine(t, out, "management", statusSkip, "")

	out = f.doctor(t, exitChecks, "-scope", "openid")
	checkLine(t, out, "management", statusFail, scope.ZitadelAPI)

	f.srv.SetClockOffset(-5 * time.Minute)
	out = f.doctor(t, exitChecks)
	checkLine(t, out, "token", statusFail, "clock")
	f.srv.SetClockOffset(0)

	f.srv.DeactivateUser(f.user.UserID)
	out = f.doctor(t, exitChecks)
	checkLine(t, out, "token", statusFail, "deactivated")
}

func TestDoctorInstanceDomain(t *testing.T) {
	f := newFixture(t)
	_, port, _ := strings.Cut(f.srv.ListenerHost(), ":")
	f.srv.SetInstanceDomain("localhost:" + port)
	out := f.run(t, nil, "doctor", "-key", f.keyPath, "-issuer", "http://"+f.srv.ListenerHost())
	checkCode(t, out, exitChecks)
	checkLine(t, out.stdout, "discovery", statusFail, "Instance not found")
	checkCode(t, f.run(t, nil, "doctor", "-key", f.keyPath, "-issuer", f.srv.Issuer()), exitOK)
}

func TestDoctorKeyProblems(t *testing.T) {
	f := newFixture(t)
	expired := f.modifiedKey(t, map[string]any{"expirationDate": "2020-01-01T00:00:00Z"})
	out := f.doctor(t, exitChecks, "-key", expired)
	checkLine(t, out, "key", statusFail, "expired")
	checkLine(t, out, "token", statusSkip, "")

	app := f.srv.NewApplication()
	f.addPEM(t, app.KeyFile)
	out = f.doctor(t, exitChecks, "-key", writeFile(t, "app.json", app.KeyFile))
	checkLine(t, out, "key", statusFail, "application")

	ec := newFixtureWithKey(t, serviceusertest.KeyEC)
	checkLine(t, ec.doctor(t, exitChecks), "key", statusFail, "RSA keys only")
}

// scopeRefuser is a token endpoint that refuses requests asking for scope
// and passes the others to the fake.
func scopeRefuser(t *testing.T, f *fixture, scope string) string {
	t.Helper()
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if strings.Contains(r.PostForm.Get("scope"), scope) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_scope","error_description":"scope not allowed"}`)
			return
		}
		resp, err := http.PostForm(f.srv.TokenURL(), r.PostForm)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(p.Close)
	return p.URL
}

func TestDoctorScopeRefused(t *testing.T) {
	f := newFixture(t)
	out := f.doctor(t, exitChecks, "-token-url", scopeRefuser(t, f, "profile"), "-scope", "openid profile "+scope.ZitadelAPI)
	checkLine(t, out, "token", statusOK, "openid")
	checkLine(t, out, "scope", statusFail, "scope profile")
}

// fakeDiscovery serves a discovery document naming issuer, with the Date
// header shifted by offset.
func fakeDiscovery(t *testing.T, issuer string, offset time.Duration) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(offset).UTC().Format(http.TimeFormat))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"issuer":"`+issuer+`"}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestDoctorDiscoveryAndClock(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		offset      time.Duration
		clock, word string
	}{{-3 * time.Minute, statusFail, "behind"}, {time.Hour, statusFail, "ahead"}, {0, statusOK, "within"}} {
		iss := fakeDiscovery(t, "https://other.example.com", c.offset)
		r := f.run(t, nil, "doctor", "-key", f.keyPath, "-issuer", iss)
		checkCode(t, r, exitChecks)
		checkLine(t, r.stdout, "discovery", statusFail, `"https://other.example.com"`)
		checkLine(t, r.stdout, "clock", c.clock, c.word)
	}
	r := f.run(t, nil, "doctor", "-key", f.keyPath, "-issuer", "http://"+closedAddr(t))
	checkCode(t, r, exitChecks)
	checkLine(t, r.stdout, "discovery", statusFail, "no answer")
	checkLine(t, r.stdout, "clock", statusSkip, "")
	checkCode(t, f.run(t, nil, "doctor", "-key", f.keyPath), exitUsage)
}

func TestDoctorOtherCredentials(t *testing.T) {
	f := newSecretFixture(t)
	iss := f.srv.Issuer()
	r := f.run(t, map[string]string{envPAT: f.pat}, "doctor", "-issuer", iss)
	checkCode(t, r, exitOK)
	checkLine(t, r.stdout, "token", statusSkip, "personal access token")
	checkLine(t, r.stdout, "management", statusOK, f.user.OrgID)
	r = f.run(t, map[string]string{envClientSecret: f.secret}, "doctor", "-client-id", f.clientID, "-issuer", iss)
	checkCode(t, r, exitOK)
	checkLine(t, r.stdout, "credential", statusOK, f.clientID)
	r = f.run(t, map[string]string{envClientSecret: "wrong" + f.secret}, "doctor", "-client-id", f.clientID, "-issuer", iss)
	checkCode(t, r, exitChecks)
	checkLine(t, r.stdout, "token", statusFail, "Secret.Invalid")
	if strings.Contains(r.stdout, f.secret) {
		t.Error("doctor printed the secret")
	}
}
