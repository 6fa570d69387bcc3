package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// inCluster is a fixture whose fake ZITADEL knows its instance as
// "localhost:PORT" (the public issuer) and is also reached through a proxy at
// another host (the internal address), as a service in a cluster reaches it.
// The proxy records the headers of each request it forwards.
type inCluster struct {
	*secretFixture
	issuer   string // the instance's public identity
	internal string // the fake's listener: a host that is not the instance's domain
	address  string // the recording proxy in front of the fake

	mu   sync.Mutex
	seen []http.Header
}

func newInCluster(t *testing.T) *inCluster {
	t.Helper()
	c := &inCluster{secretFixture: newSecretFixture(t)}
	_, port, _ := strings.Cut(c.srv.ListenerHost(), ":")
	c.srv.SetInstanceDomain("localhost:" + port)
	c.issuer, c.internal = "http://localhost:"+port, "http://"+c.srv.ListenerHost()
	target, err := url.Parse(c.internal)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.seen = append(c.seen, r.Header.Clone())
		c.mu.Unlock()
		forward.ServeHTTP(w, r) // keeps Host: the proxy's own, not the instance's domain
	}))
	t.Cleanup(proxy.Close)
	c.address = proxy.URL
	return c
}

// forwarded returns the headers of the requests the proxy has forwarded.
func (c *inCluster) forwarded() []http.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]http.Header(nil), c.seen...)
}

// checkForwarded fails unless the proxy forwarded more than before requests,
// each naming the instance and carrying the extra header.
func (c *inCluster) checkForwarded(t *testing.T, before int) {
	t.Helper()
	seen := c.forwarded()
	if len(seen) <= before {
		t.Fatalf("no request went to -address (%d before, %d after)", before, len(seen))
	}
	for _, h := range seen[before:] {
		if got := h.Get("x-zitadel-instance-host"); got != strings.TrimPrefix(c.issuer, "http://") {
			t.Errorf("x-zitadel-instance-host: %q, want the issuer's host", got)
		}
		if got := h.Get("X-Proxy-Tenant"); got != "blue" {
			t.Errorf("X-Proxy-Tenant: %q, want the -H value blue", got)
		}
	}
}

func TestBinaryAddress(t *testing.T) {
	c := newInCluster(t)
	cache := "XDG_CACHE_HOME=" + t.TempDir()
	route := []string{"-issuer", c.issuer, "-address", c.address, "-H", "X-Proxy-Tenant: blue"}
	keyRoute := append([]string{"-key", c.keyPath}, route...)

	n := len(c.forwarded())
	r := c.runBinary(t, []string{cache}, append([]string{"token"}, keyRoute...)...)
	checkCode(t, r, exitOK)
	c.checkForwarded(t, n)
	tok := strings.TrimSpace(r.stdout)
	c.addToken(tok)
	checkTokenWorks(t, c.fixture, tok)

	for _, args := range [][]string{
		append([]string{"api", "/management/v1/orgs/me"}, keyRoute...),
		append([]string{"api", "/management/v1/orgs/me", "-client-id", c.clientID, "-client-secret-file", c.secretPath}, route...),
		append([]string{"api", "/management/v1/orgs/me", "-pat-file", c.patPath}, route...),
	} {
		n = len(c.forwarded())
		r = c.runBinary(t, []string{cache}, args...)
		checkCode(t, r, exitOK)
		if id, _ := orgOf(t, r.stdout); id != c.user.OrgID {
			t.Errorf("%q: org %q, want %q", args, id, c.user.OrgID)
		}
		c.checkForwarded(t, n)
	}

	n = len(c.forwarded())
	r = c.runBinary(t, []string{cache}, append([]string{"userinfo"}, keyRoute...)...)
	checkCode(t, r, exitOK)
	if !strings.Contains(r.stdout, c.user.UserID) {
		t.Errorf("userinfo: %q", r.stdout)
	}
	c.checkForwarded(t, n)

	app := c.srv.NewApplication()
	appKey := writeFile(t, "app.json", app.KeyFile)
	n = len(c.forwarded())
	r = c.runBinaryInput(t, tok, nil, append([]string{"introspect", "-key", appKey}, route...)...)
	checkCode(t, r, exitInactive) // the token lacks the application's project: ZITADEL's answer, through the address
	c.checkForwarded(t, n)
}

func TestBinaryAddressFromEnvironment(t *testing.T) {
	c := newInCluster(t)
	env := []string{envKey + "=" + c.keyPath, envIssuer + "=" + c.issuer, envAddress + "=" + c.address}
	r := c.runBinary(t, env, "api", "/management/v1/orgs/me", "-H", "X-Proxy-Tenant: blue")
	checkCode(t, r, exitOK)
	c.checkForwarded(t, 0)
}

// Without -address, a request to the internal host does not name the
// instance: ZITADEL answers "Instance not found", and doctor says what to do.
func TestBinaryWithoutAddress(t *testing.T) {
	c := newInCluster(t)
	for _, sub := range []string{"token", "api"} {
		args := []string{sub, "-key", c.keyPath, "-issuer", c.internal}
		if sub == "api" {
			args = append(args, "/management/v1/orgs/me")
		}
		r := c.runBinary(t, nil, args...)
		checkCode(t, r, exitRefused)
		if !strings.Contains(r.stderr, "Instance not found") {
			t.Errorf("%s: stderr %q does not say Instance not found", sub, r.stderr)
		}
	}

	r := c.runBinary(t, nil, "doctor", "-key", c.keyPath, "-issuer", c.internal)
	checkCode(t, r, exitChecks)
	checkLine(t, r.stdout, "discovery", statusFail, "Instance not found")
	checkLine(t, r.stdout, "discovery", statusFail, "-address "+c.internal)

	r = c.runBinary(t, nil, "doctor", "-key", c.keyPath, "-issuer", c.issuer, "-address", c.address)
	checkCode(t, r, exitOK)
	checkLine(t, r.stdout, "discovery", statusOK, "through -address "+c.address)
}

// A plain http address to a host that is not loopback would carry the
// credential unencrypted: it is refused before any request, cached token
// or not, unless the user opts in.
func TestBinaryPlainHTTPAddress(t *testing.T) {
	c := newInCluster(t)
	cache := "XDG_CACHE_HOME=" + t.TempDir()
	keyArgs := []string{"-key", c.keyPath, "-issuer", c.issuer}
	checkCode(t, c.runBinary(t, []string{cache}, append([]string{"api", "/management/v1/orgs/me"}, keyArgs...)...), exitOK)
	tokens := c.srv.TokenRequests()

	const remote = "http://zitadel.invalid:8080"
	for _, args := range [][]string{
		{"token", "-no-cache"},
		{"api", "/management/v1/orgs/me"}, // the token is cached: only the API request would go out
		{"userinfo"},
		{"doctor"},
	} {
		r := c.runBinary(t, []string{cache}, append(append(args, keyArgs...), "-address", remote)...)
		checkCode(t, r, exitUsage)
		if !strings.Contains(r.stderr, "-insecure-allow-plain-http") {
			t.Errorf("%s: stderr %q does not name the opt-in", args[0], r.stderr)
		}
	}
	app := writeFile(t, "app.json", c.srv.NewApplication().KeyFile)
	r := c.runBinaryInput(t, "some-token", nil, "introspect", "-key", app, "-issuer", c.issuer, "-address", remote)
	checkCode(t, r, exitUsage)
	if n := c.srv.TokenRequests(); n != tokens || len(c.forwarded()) != 0 {
		t.Errorf("%d token requests after the refusals, want %d; %d through the proxy, want 0", n, tokens, len(c.forwarded()))
	}

	// With the opt-in, the request is made (and fails: the host does not exist).
	for _, env := range [][]string{{cache}, {cache, envInsecurePlainHTTP + "=1"}} {
		args := append(append([]string{"token", "-no-cache", "-timeout", "5s"}, keyArgs...), "-address", remote)
		if len(env) == 1 {
			args = append(args, "-insecure-allow-plain-http")
		}
		checkCode(t, c.runBinary(t, env, args...), exitNetwork)
	}
	// A flag given wins over the environment, as for the other flags.
	r = c.runBinary(t, []string{cache, envInsecurePlainHTTP + "=1"},
		append(append([]string{"token", "-no-cache", "-" + flagInsecurePlainHTTP + "=false"}, keyArgs...), "-address", remote)...)
	checkCode(t, r, exitUsage)
	r = c.runBinary(t, []string{cache, envInsecurePlainHTTP + "=maybe"}, append([]string{"token"}, keyArgs...)...)
	checkCode(t, r, exitUsage)
	if !strings.Contains(r.stderr, envInsecurePlainHTTP) {
		t.Errorf("a bad %s: stderr %q", envInsecurePlainHTTP, r.stderr)
	}
}

// -H takes "Name: value"; a malformed or reserved header is refused before
// any request, and the message never repeats the value.
func TestHeaderFlag(t *testing.T) {
	c := newInCluster(t)
	for _, h := range []string{"Authorization: Bearer s3cr3t-value", "no colon s3cr3t-value", ": s3cr3t-value",
		"Bad Name: s3cr3t-value", "X-Line: s3cr3t-value\nInjected: yes"} {
		r := c.run(t, nil, "token", "-no-cache", "-key", c.keyPath, "-issuer", c.issuer, "-address", c.address, "-H", h)
		checkCode(t, r, exitUsage)
		if strings.Contains(r.stderr, "s3cr3t") || !strings.Contains(r.stderr, "-H") {
			t.Errorf("-H %q: stderr %q", h, r.stderr)
		}
	}
	if n := c.srv.TokenRequests(); n != 0 || len(c.forwarded()) != 0 {
		t.Errorf("%d token requests, %d through the proxy; want none", n, len(c.forwarded()))
	}
}
