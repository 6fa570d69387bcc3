package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-serviceuser/serviceuser/bearer"
	"github.com/go-serviceuser/serviceuser/scope"
)

// orgOf decodes the organization of a /management/v1/orgs/me answer.
func orgOf(t *testing.T, out string) (id, name string) {
	t.Helper()
	var got struct {
		Org struct{ ID, Name string }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout %q is not JSON: %v", out, err)
	}
	return got.Org.ID, got.Org.Name
}

func TestAPI(t *testing.T) {
	f := newSecretFixture(t)
	iss := f.srv.Issuer()
	other := f.srv.NewOrganization("Other Org")
	for _, c := range []struct {
		name    string
		env     map[string]string
		args    []string
		wantOrg string
	}{
		{"key", nil, []string{"api", "-key", f.keyPath, "-issuer", iss, "/management/v1/orgs/me"}, f.user.OrgID},
		{"flags after the path", nil, []string{"api", "/management/v1/orgs/me", "-key", f.keyPath, "-issuer", iss}, f.user.OrgID},
		{"-org", nil, []string{"api", "-key", f.keyPath, "-issuer", iss, "-org", other, "/management/v1/orgs/me"}, other},
		{"client secret", map[string]string{envClientSecret: f.secret}, []string{"api", "-client-id", f.clientID, "-issuer", iss, "/management/v1/orgs/me"}, f.user.OrgID},
		{"PAT", map[string]string{envPAT: f.pat, envIssuer: iss + "/"}, []string{"api", "/management/v1/orgs/me"}, f.user.OrgID},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := f.run(t, c.env, c.args...)
			checkCode(t, r, exitOK)
			if id, _ := orgOf(t, r.stdout); id != c.wantOrg {
				t.Errorf("org %q, want %q", id, c.wantOrg)
			}
			if !strings.HasPrefix(r.stdout, "{\n  \"org\": {\n    ") {
				t.Errorf("the answer is not pretty-printed:\n%s", r.stdout)
			}
		})
	}
}

func TestAPIRefused(t *testing.T) {
	f := newFixture(t)
	args := []string{"api", "-key", f.keyPath, "-issuer", f.srv.Issuer()}
	r := f.run(t, nil, append(args, "-scope", "openid", "/management/v1/orgs/me")...)
	checkCode(t, r, exitRefused)
	if !strings.Contains(r.stderr, "HTTP 401") || !strings.Contains(r.stderr, scope.ZitadelAPI) {
		t.Errorf("stderr %q names neither the status nor the missing scope", r.stderr)
	}
	if !strings.Contains(r.stdout, "Errors.Token.Invalid") {
		t.Errorf("the error answer is not printed: %q", r.stdout)
	}
	r = f.run(t, nil, append(args, "/management/v1/nowhere")...)
	checkCode(t, r, exitRefused)
	if !strings.Contains(r.stderr, "HTTP 404") {
		t.Errorf("stderr %q", r.stderr)
	}
	r = f.run(t, nil, append(args, "-org", "123", "/management/v1/orgs/me")...)
	checkCode(t, r, exitRefused)
}

// apiRecorder is an API that records the requests it gets and answers
// with status.
type apiRecorder struct {
	mu       sync.Mutex
	requests []recorded
	status   int
}

type recorded struct {
	method, path, body, contentType, org, auth string
}

func newAPIRecorder(t *testing.T, status int) (*apiRecorder, string) {
	t.Helper()
	a := &apiRecorder{status: status}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.requests = append(a.requests, recorded{r.Method, r.URL.RequestURI(), string(body), r.Header.Get("Content-Type"),
			r.Header.Get(bearer.HeaderOrgID), r.Header.Get("Authorization")})
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		io.WriteString(w, `{"answer":[1,2]}`)
	}))
	t.Cleanup(srv.Close)
	return a, srv.URL
}

func (a *apiRecorder) last(t *testing.T) recorded {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.requests) == 0 {
		t.Fatal("no request reached the API")
	}
	return a.requests[len(a.requests)-1]
}

func TestAPIRequest(t *testing.T) {
	f := newSecretFixture(t)
	api, url := newAPIRecorder(t, http.StatusOK)
	env := map[string]string{envPAT: f.pat, envIssuer: url}
	body := writeFile(t, "body.json", []byte(`{"name":"from a file"}`))
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  recorded
	}{
		{"GET", "", []string{"api", "/v2/users?limit=1"}, recorded{method: "GET", path: "/v2/users?limit=1"}},
		{"-d makes a POST", "", []string{"api", "-d", `{"a":1}`, "/v2/users"}, recorded{method: "POST", path: "/v2/users", body: `{"a":1}`, contentType: "application/json"}},
		{"-X and @file", "", []string{"api", "-X", "PUT", "-d", "@" + body, "/x"}, recorded{method: "PUT", path: "/x", body: `{"name":"from a file"}`, contentType: "application/json"}},
		{"@- reads standard input", `{"in":true}`, []string{"api", "-d", "@-", "/y"}, recorded{method: "POST", path: "/y", body: `{"in":true}`, contentType: "application/json"}},
		{"-org", "", []string{"api", "-X", "delete", "-org", "42", "/z"}, recorded{method: "DELETE", path: "/z", org: "42"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.runInput(t, c.stdin, env, c.args...)
			checkCode(t, r, exitOK)
			c.want.auth = "Bearer " + f.pat
			if got := api.last(t); got != c.want {
				t.Errorf("request %+v, want %+v", got, c.want)
			}
			if r.stdout != "{\n  \"answer\": [\n    1,\n    2\n  ]\n}\n" {
				t.Errorf("stdout %q", r.stdout)
			}
		})
	}
}

func TestAPIExitCodes(t *testing.T) {
	f := newSecretFixture(t)
	for status, want := range map[int]int{201: exitOK, 204: exitOK, 400: exitRefused, 401: exitRefused, 403: exitRefused,
		404: exitRefused, 409: exitRefused, 500: exitNetwork, 503: exitNetwork} {
		_, url := newAPIRecorder(t, status)
		r := f.run(t, map[string]string{envPAT: f.pat, envIssuer: url}, "api", "/p")
		checkCode(t, r, want)
		if status == 403 && !strings.Contains(r.stderr, "role") {
			t.Errorf("403: stderr %q gives no hint about roles", r.stderr)
		}
	}
	_, url := newAPIRecorder(t, http.StatusOK)
	env := map[string]string{envPAT: f.pat, envIssuer: url}
	for name, args := range map[string][]string{
		"no path":           {"api"},
		"two paths":         {"api", "/a", "/b"},
		"relative path":     {"api", "management/v1/orgs/me"},
		"absolute URL":      {"api", "https://example.com/management/v1/orgs/me"},
		"scheme-relative":   {"api", "//example.com/x"},
		"bad method":        {"api", "-X", "GE T", "/a"},
		"missing body file": {"api", "-d", "@/nonexistent/body.json", "/a"},
	} {
		t.Run(name, func(t *testing.T) {
			r := f.run(t, env, args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want a usage error; stderr %q", r.code, r.stderr)
			}
		})
	}
}
