package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go.uber.org/goleak"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// fixture is a fake ZITADEL with one service user whose key file is on disk.
// It remembers every access token it has seen, so that each run can check
// that none leaked where it must not appear.
type fixture struct {
	srv     *serviceusertest.Server
	user    *serviceusertest.ServiceUser
	keyPath string
	pem     []string // base64 lines of the private key
	scope   string   // what userToken asks for

	mu     sync.Mutex
	tokens []string
}

func newFixture(t *testing.T) *fixture {
	return newFixtureWithKey(t, serviceusertest.KeyRSA)
}

func newFixtureWithKey(t *testing.T, kind serviceusertest.KeyKind) *fixture {
	t.Helper()
	srv := serviceusertest.NewServer(serviceusertest.WithECKeys())
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, user: srv.NewServiceUserWithKey(kind)}
	f.keyPath = writeFile(t, "key.json", f.user.KeyFile)
	f.addPEM(t, f.user.KeyFile)
	return f
}

// addPEM adds the private key lines of keyFile to those no output may hold.
func (f *fixture) addPEM(t *testing.T, keyFile []byte) {
	t.Helper()
	fields := keyFields(t, keyFile)
	for _, line := range strings.Split(fields["key"].(string), "\n") {
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			f.pem = append(f.pem, line)
		}
	}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func keyFields(t *testing.T, keyFile []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(keyFile, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// modifiedKey writes the fixture's key file with fields changed (nil deletes).
func (f *fixture) modifiedKey(t *testing.T, changes map[string]any) string {
	t.Helper()
	m := keyFields(t, f.user.KeyFile)
	for k, v := range changes {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "modified.json", data)
}

func (f *fixture) addToken(tok string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = append(f.tokens, tok)
}

func (f *fixture) knownTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tokens)
}

// tokenProxy returns a token URL that forwards to the fake and records the
// tokens it hands out, for the subcommands that never show their token.
func (f *fixture) tokenProxy(t *testing.T) string {
	t.Helper()
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Post(f.srv.TokenURL(), r.Header.Get("Content-Type"), r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(data, &tr) == nil && tr.AccessToken != "" {
			f.addToken(tr.AccessToken)
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		w.Write(data)
	}))
	t.Cleanup(p.Close)
	return p.URL + "/oauth/v2/token"
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the tool with env as the whole environment and checks what
// every run must respect.
func (f *fixture) run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return f.runInput(t, "", env, args...)
}

// runInput is run with stdin as standard input.
func (f *fixture) runInput(t *testing.T, stdin string, env map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	var stdout, stderr bytes.Buffer
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	code := run(ctx, args, strings.NewReader(stdin), &stdout, &stderr, lookup)
	r := result{code, stdout.String(), stderr.String()}
	f.checkOutput(t, args, r)
	return r
}

// printedToken runs the tool, which must exit 0, and returns the token it
// printed, which from then on no output may hold where it must not appear.
func (f *fixture) printedToken(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	r := f.run(t, env, args...)
	checkCode(t, r, exitOK)
	tok := strings.TrimSuffix(r.stdout, "\n")
	f.addToken(tok)
	return tok
}

// checkOutput checks the rules on stderr and on secrets.
func (f *fixture) checkOutput(t *testing.T, args []string, r result) {
	t.Helper()
	switch {
	case len(args) == 0:
		if r.code != exitUsage || r.stdout != "" || r.stderr != usageText() {
			t.Errorf("without arguments: exit %d, stdout %q, stderr %q; want exit 2 and the usage on stderr", r.code, r.stdout, r.stderr)
		}
	case r.code == exitOK && r.stderr != "":
		t.Errorf("exit 0 with stderr %q", r.stderr)
	case r.code != exitOK && (!strings.HasPrefix(r.stderr, "zitadel-token: ") || strings.Count(r.stderr, "\n") != 1):
		t.Errorf("exit %d: stderr is not one 'zitadel-token: ' line: %q", r.code, r.stderr)
	}
	for _, s := range append(f.pem, "PRIVATE KEY") {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("output contains key material %q", s)
		}
	}
	printsToken := subcommand(args) == "token" && !slices.Contains(args, "-demo")
	for _, tok := range f.knownTokens() {
		if strings.Contains(r.stderr, tok) || (!printsToken && strings.Contains(r.stdout, tok)) {
			t.Errorf("an access token leaked: stdout %q, stderr %q", r.stdout, r.stderr)
		}
	}
}

func subcommand(args []string) string {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0]
	}
	return "token"
}

// checkCode fails the test unless r exited with want.
func checkCode(t *testing.T, r result, want int) {
	t.Helper()
	if r.code != want {
		t.Fatalf("exit code %d, want %d; stdout %q; stderr %q", r.code, want, r.stdout, r.stderr)
	}
}

// userinfo calls the fake's userinfo endpoint with tok.
func userinfo(t *testing.T, srv *serviceusertest.Server, tok string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.UserinfoURL(), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var claims map[string]any
	json.NewDecoder(resp.Body).Decode(&claims)
	return resp.StatusCode, claims
}

func checkTokenWorks(t *testing.T, f *fixture, tok string) {
	t.Helper()
	status, claims := userinfo(t, f.srv, tok)
	if status != http.StatusOK || claims["sub"] != f.user.UserID {
		t.Errorf("userinfo with the printed token: %d %v, want 200 with sub %s", status, claims, f.user.UserID)
	}
}

func TestTokenPlain(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{
		{"token", "-key", f.keyPath, "-issuer", f.srv.Issuer()},
		{"-key", f.keyPath, "-issuer", f.srv.Issuer() + "/"},
		{"-key", f.keyPath, "-issuer", f.srv.Issuer(), "-scope", "openid profile", "-scope", "email"},
		{"-key", f.keyPath, "-issuer", f.srv.Issuer(), "-token-url", f.srv.TokenURL()},
	} {
		r := f.run(t, nil, args...)
		checkCode(t, r, exitOK)
		tok, ok := strings.CutSuffix(r.stdout, "\n")
		if !ok || tok == "" || strings.ContainsAny(tok, " \n") {
			t.Fatalf("stdout %q is not one token and a newline", r.stdout)
		}
		f.addToken(tok)
		checkTokenWorks(t, f, tok)
	}
}

func TestTokenJSON(t *testing.T) {
	f := newFixture(t)
	r := f.run(t, nil, "token", "-json", "-key", f.keyPath, "-issuer", f.srv.Issuer())
	checkCode(t, r, exitOK)
	var got struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Expiry      string `json:"expiry"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("stdout %q: %v", r.stdout, err)
	}
	f.addToken(got.AccessToken)
	checkTokenWorks(t, f, got.AccessToken)
	expiry, err := time.Parse(time.RFC3339, got.Expiry)
	lifetime := int64(serviceusertest.DefaultTokenLifetime / time.Second)
	if err != nil || time.Until(expiry) < 11*time.Hour || got.ExpiresIn < lifetime-5 || got.ExpiresIn > lifetime {
		t.Errorf("expiry %q, expires_in %d: want about %d s from now", got.Expiry, got.ExpiresIn, lifetime)
	}
	if got.TokenType != "Bearer" {
		t.Errorf("token_type %q", got.TokenType)
	}
}

func TestTokenFromEnvironment(t *testing.T) {
	f := newFixture(t)
	iss := f.srv.Issuer()
	cases := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"ZITADEL_KEY path", map[string]string{envKey: f.keyPath, envIssuer: iss}, []string{"token"}},
		{"ZITADEL_KEY JSON", map[string]string{envKey: string(f.user.KeyFile), envIssuer: iss}, []string{"token"}},
		{"-key-env JSON", map[string]string{"MY_KEY": "  " + string(f.user.KeyFile) + "\n"}, []string{"-key-env", "MY_KEY", "-issuer", iss}},
		{"-key-env path", map[string]string{"MY_KEY": f.keyPath + "\n", envIssuer: iss}, []string{"-key-env", "MY_KEY"}},
		{"-key wins over ZITADEL_KEY", map[string]string{envKey: "/nonexistent", envIssuer: iss}, []string{"-key", f.keyPath}},
		// as docker --env-file and editors keep them; the library's KeyFileFromEnv takes these too
		{"ZITADEL_KEY JSON in quotes", map[string]string{envKey: "'" + string(f.user.KeyFile) + "'", envIssuer: iss}, []string{"token"}},
		{"ZITADEL_KEY JSON after a BOM", map[string]string{envKey: "\ufeff" + string(f.user.KeyFile), envIssuer: iss}, []string{"token"}},
		{"ZITADEL_KEY path in quotes", map[string]string{envKey: `"` + f.keyPath + `"`, envIssuer: iss}, []string{"token"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkTokenWorks(t, f, f.printedToken(t, c.env, c.args...))
		})
	}
}

// assertionClaims decodes the payload of a compact JWT.
func assertionClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("assertion %q has %d parts, want 3", jwt, len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func audience(claims map[string]any) []string {
	switch aud := claims["aud"].(type) {
	case string:
		return []string{aud}
	case []any:
		var out []string
		for _, a := range aud {
			s, _ := a.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

func TestAssertion(t *testing.T) {
	for _, kind := range []serviceusertest.KeyKind{serviceusertest.KeyRSA, serviceusertest.KeyRSAPKCS8, serviceusertest.KeyEC} {
		t.Run(kind.String(), func(t *testing.T) {
			f := newFixtureWithKey(t, kind)
			r := f.run(t, nil, "assertion", "-key", f.keyPath, "-issuer", f.srv.Issuer(), "-lifetime", "10m")
			checkCode(t, r, exitOK)
			jwt := strings.TrimSuffix(r.stdout, "\n")
			claims := assertionClaims(t, jwt)
			if claims["iss"] != f.user.UserID || claims["sub"] != f.user.UserID {
				t.Errorf("iss %v, sub %v, want %s", claims["iss"], claims["sub"], f.user.UserID)
			}
			if !slices.Contains(audience(claims), f.srv.Issuer()) {
				t.Errorf("aud %v does not contain %s", claims["aud"], f.srv.Issuer())
			}
			if exp, _ := claims["exp"].(float64); time.Until(time.Unix(int64(exp), 0)) > 11*time.Minute {
				t.Errorf("exp %v is more than 10 minutes away", claims["exp"])
			}
			exchangeAssertion(t, f, jwt)
		})
	}
}

// exchangeAssertion checks that the fake's token endpoint accepts jwt.
func exchangeAssertion(t *testing.T, f *fixture, jwt string) {
	t.Helper()
	resp, err := http.PostForm(f.srv.TokenURL(), url.Values{
		"grant_type": {serviceusertest.GrantTypeJWTBearer}, "assertion": {jwt}, "scope": {"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Errorf("token endpoint refused the assertion: %d %s (%v)", resp.StatusCode, body, f.srv.Rejections())
	}
}

func TestAssertionLifetimeOutOfRange(t *testing.T) {
	f := newFixture(t)
	for _, lifetime := range []string{"0s", "2h", "-1m", "1m"} {
		r := f.run(t, nil, "assertion", "-key", f.keyPath, "-issuer", f.srv.Issuer(), "-lifetime", lifetime)
		checkCode(t, r, exitUsage)
	}
}

func TestInspect(t *testing.T) {
	f := newFixture(t)
	r := f.run(t, nil, "inspect", "-key", f.keyPath)
	checkCode(t, r, exitOK)
	for _, want := range []string{"serviceaccount", f.user.KeyID, f.user.UserID, "RSA-2048", "never", "expired:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, r.stdout)
		}
	}

	r = f.run(t, nil, "inspect", "-json", "-key", f.keyPath)
	checkCode(t, r, exitOK)
	var got keySummary
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("stdout %q: %v", r.stdout, err)
	}
	want := keySummary{Type: "serviceaccount", KeyID: f.user.KeyID, UserID: f.user.UserID,
		KeyKind: "RSA-2048", Expiration: "never"}
	if got != want {
		t.Errorf("inspect -json = %+v, want %+v", got, want)
	}
}

func TestInspectApplicationKey(t *testing.T) {
	f := newFixture(t)
	path := f.modifiedKey(t, map[string]any{"type": "application", "userId": nil, "appId": "app-1", "clientId": "client-1@p"})
	r := f.run(t, nil, "inspect", "-key", path)
	checkCode(t, r, exitOK)
	for _, want := range []string{"application", "app-1", "client-1@p"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, r.stdout)
		}
	}
	// An application key cannot obtain tokens with the JWT bearer grant.
	checkCode(t, f.run(t, nil, "-key", path, "-issuer", f.srv.Issuer()), exitKey)
	if n := f.srv.TokenRequests(); n != 0 {
		t.Errorf("%d token requests for an application key", n)
	}
}

func TestExpiredKey(t *testing.T) {
	f := newFixture(t)
	path := f.modifiedKey(t, map[string]any{"expirationDate": "2020-01-02T03:04:05Z"})
	r := f.run(t, nil, "inspect", "-key", path)
	checkCode(t, r, exitKey)
	if !strings.Contains(r.stdout, "2020-01-02T03:04:05Z") || !strings.Contains(r.stdout, "expired:        yes") {
		t.Errorf("inspect of an expired key:\n%s", r.stdout)
	}
	for _, args := range [][]string{{"token"}, {"assertion"}, {"userinfo"}} {
		checkCode(t, f.run(t, nil, append(args, "-key", path, "-issuer", f.srv.Issuer())...), exitKey)
	}
	if n := f.srv.TokenRequests(); n != 0 {
		t.Errorf("%d token requests with an expired key", n)
	}
}

func TestUserinfo(t *testing.T) {
	f := newFixture(t)
	for _, extra := range [][]string{
		nil, // userinfo and token endpoints from discovery
		{"-token-url", f.tokenProxy(t), "-userinfo-url", f.srv.UserinfoURL()},
	} {
		r := f.run(t, nil, append([]string{"userinfo", "-key", f.keyPath, "-issuer", f.srv.Issuer()}, extra...)...)
		checkCode(t, r, exitOK)
		var claims map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &claims); err != nil || claims["sub"] != f.user.UserID {
			t.Errorf("userinfo printed %q, want sub %s", r.stdout, f.user.UserID)
		}
	}
	if len(f.knownTokens()) != 1 {
		t.Errorf("the proxy saw %d tokens, want 1", len(f.knownTokens()))
	}
}

func TestUserinfoRefused(t *testing.T) {
	f := newFixture(t)
	// A userinfo URL that is not the userinfo endpoint answers 404.
	r := f.run(t, nil, "userinfo", "-key", f.keyPath, "-issuer", f.srv.Issuer(),
		"-token-url", f.tokenProxy(t), "-userinfo-url", f.srv.Issuer()+"/nowhere")
	checkCode(t, r, exitRefused)
	if r.stdout != "" {
		t.Errorf("stdout %q after a refused userinfo", r.stdout)
	}
}

var longBase64 = regexp.MustCompile(`[A-Za-z0-9_-]{40,}`)

func TestDemo(t *testing.T) {
	f := &fixture{}
	for _, args := range [][]string{{"demo"}, {"-demo"}, {"token", "-demo", "-scope", "openid profile"}, {"demo", "-scope", "openid profile"}} {
		r := f.run(t, nil, args...)
		checkCode(t, r, exitOK)
		if !strings.HasSuffix(r.stdout, "demo: ok\n") {
			t.Errorf("demo output does not end with 'demo: ok':\n%s", r.stdout)
		}
		for _, want := range []string{"(1 token request)", "userinfo answered 200", "still 1 token request"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
			}
		}
		if s := longBase64.FindString(r.stdout); s != "" {
			t.Errorf("demo output holds something like a token: %q", s)
		}
	}
}

func usageText() string {
	var b strings.Builder
	printUsage(&b)
	return b.String()
}

func TestHelp(t *testing.T) {
	f := &fixture{}
	usage := usageText()
	for _, args := range [][]string{{"help"}, {"-h"}, {"-help"}, {"--help"}} {
		r := f.run(t, nil, args...)
		checkCode(t, r, exitOK)
		if r.stdout != usage {
			t.Errorf("%v prints another text than help:\n%s", args, r.stdout)
		}
	}
	for _, c := range commands {
		if !strings.Contains(usage, "\n  "+c.name+" ") {
			t.Errorf("usage does not list subcommand %s", c.name)
		}
		c.flagSet(&options{}).VisitAll(func(fl *flag.Flag) {
			if !strings.Contains(usage, "\n  -"+fl.Name+" ") && !strings.Contains(usage, "\n  -"+fl.Name+"\n") {
				t.Errorf("usage does not describe flag -%s", fl.Name)
			}
		})
	}
	for code := exitOK; code <= exitChecks; code++ {
		if !strings.Contains(usage, fmt.Sprintf("\n  %d  ", code)) {
			t.Errorf("usage does not document exit code %d", code)
		}
	}
	for _, want := range []string{"130", "143", "(default 10s)", "(default openid)"} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}

// helpFlag matches the line that starts a flag's description.
var helpFlag = regexp.MustCompile(`(?m)^  -([A-Za-z-]+)\b`)

// flagNames lists the flags that a help text describes, in order.
func flagNames(help string) []string {
	var names []string
	for _, m := range helpFlag.FindAllStringSubmatch(help, -1) {
		names = append(names, m[1])
	}
	return names
}

func TestSubcommandHelp(t *testing.T) {
	f := &fixture{}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			r := f.run(t, nil, c.name, "-h")
			checkCode(t, r, exitOK)
			if got := flagNames(r.stdout); !slices.Equal(got, c.flags) {
				t.Errorf("%s -h describes flags %q, want %q:\n%s", c.name, got, c.flags, r.stdout)
			}
			if !strings.HasPrefix(r.stdout, "Usage: zitadel-token "+c.name+" [flags]"+operandsText(c.operands)+"\n") {
				t.Errorf("%s -h:\n%s", c.name, r.stdout)
			}
			if again := f.run(t, nil, "help", c.name); again.code != exitOK || again.stdout != r.stdout {
				t.Errorf("help %s differs from %s -h: %q", c.name, c.name, again.stdout)
			}
		})
	}
	if got := flagNames(f.run(t, nil, "token", "-h").stdout); slices.Contains(got, "lifetime") || slices.Contains(got, "userinfo-url") {
		t.Errorf("token -h describes other subcommands' flags: %q", got)
	}
	r := f.run(t, nil, "timeout", "-h")
	checkCode(t, r, exitUsage)
	checkCode(t, f.run(t, nil, "help", "frobnicate"), exitUsage)
}

// The defaults come from the library, not from copies of its values.
func TestFlagDefaults(t *testing.T) {
	o := &options{}
	fs := lookupCommand("token").flagSet(o)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if o.timeout != serviceuser.DefaultTimeout || !slices.Equal(o.scopeValues(), serviceuser.DefaultScopes()) {
		t.Errorf("timeout %s, scopes %q; want the library's defaults", o.timeout, o.scopeValues())
	}
	if fs.Lookup("scope").DefValue != strings.Join(serviceuser.DefaultScopes(), " ") {
		t.Errorf("-scope shows default %q", fs.Lookup("scope").DefValue)
	}
	o = &options{}
	if err := lookupCommand("assertion").flagSet(o).Parse(nil); err != nil || o.lifetime != serviceuser.MaxAssertionLifetime {
		t.Errorf("-lifetime defaults to %s, want %s (%v)", o.lifetime, serviceuser.MaxAssertionLifetime, err)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestExitCodes(t *testing.T) {
	f := newFixture(t)
	keyArgs := []string{"-key", f.keyPath, "-issuer", f.srv.Issuer()}
	malformed := writeFile(t, "bad.json", []byte(`{"type":"serviceaccount","keyId":"1","key":"not a key","userId":"2"}`))
	dead := "http://" + closedAddr(t)
	keyJSON := string(f.user.KeyFile)
	pem := keyFields(t, f.user.KeyFile)["key"].(string)
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want int
	}{
		{"unknown subcommand", nil, []string{"frobnicate"}, exitUsage},
		{"unknown flag", nil, []string{"token", "-frobnicate"}, exitUsage},
		{"stray argument", nil, append([]string{"token"}, append(keyArgs, "extra")...), exitUsage},
		{"no arguments", nil, nil, exitUsage},
		{"missing -key", nil, []string{"-issuer", f.srv.Issuer()}, exitUsage},
		{"missing -issuer", nil, []string{"-key", f.keyPath}, exitUsage},
		{"-key and -key-env", map[string]string{"K": keyJSON}, append(keyArgs, "-key-env", "K"), exitUsage},
		{"-key-env unset", nil, []string{"-key-env", "NOT_SET", "-issuer", f.srv.Issuer()}, exitUsage},
		{"-key-env given the JSON", map[string]string{"K": keyJSON}, []string{"-key-env", keyJSON, "-issuer", f.srv.Issuer()}, exitUsage},
		{"-key given the JSON", nil, []string{"-key", keyJSON, "-issuer", f.srv.Issuer()}, exitUsage},
		{"JSON as subcommand", nil, []string{keyJSON}, exitUsage},
		{"JSON as a flag value", nil, append(keyArgs, "-timeout", keyJSON), exitUsage},
		{"plain http issuer", nil, []string{"-key", f.keyPath, "-issuer", "http://zitadel.example.com"}, exitUsage},
		{"bad timeout", nil, append(keyArgs, "-timeout", "0s"), exitUsage},
		{"malformed key file", nil, []string{"-key", malformed, "-issuer", f.srv.Issuer()}, exitKey},
		{"malformed key file, inspect", nil, []string{"inspect", "-key", malformed}, exitKey},
		{"missing key file", nil, []string{"-key", filepath.Join(t.TempDir(), "none.json"), "-issuer", f.srv.Issuer()}, exitKey},
		{"PEM in the key variable", map[string]string{envKey: pem, envIssuer: f.srv.Issuer()}, []string{"token"}, exitKey},
		{"unreachable issuer", nil, []string{"-key", f.keyPath, "-issuer", dead}, exitNetwork},
		{"unreachable token URL", nil, append(keyArgs, "-token-url", dead+"/oauth/v2/token"), exitNetwork},
		{"unreachable issuer, userinfo", nil, []string{"userinfo", "-key", f.keyPath, "-issuer", dead}, exitNetwork},
		{"wrong token URL", nil, append(keyArgs, "-token-url", f.srv.Issuer()+"/nowhere"), exitRefused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.run(t, c.env, c.args...)
			checkCode(t, r, c.want)
			if strings.Contains(r.stderr, keyJSON) || strings.Contains(r.stderr, `"keyId"`) {
				t.Errorf("stderr repeats the key file: %q", r.stderr)
			}
		})
	}
	if n := f.srv.TokenRequests(); n != 0 {
		t.Errorf("%d token requests reached the server", n)
	}
}

func TestServerRefuses(t *testing.T) {
	f := newFixture(t)
	args := []string{"-key", f.keyPath, "-issuer", f.srv.Issuer()}

	f.srv.FailNext(10, serviceusertest.Fault{Status: http.StatusInternalServerError}) // a single 500 is retried within the wait
	r := f.run(t, nil, args...)
	checkCode(t, r, exitRefused)
	if !strings.Contains(r.stderr, "HTTP 500") {
		t.Errorf("stderr %q does not name the status", r.stderr)
	}

	f.srv.RevokeKey(f.user.KeyID)
	checkCode(t, f.run(t, nil, args...), exitRefused)
	checkCode(t, f.run(t, nil, append([]string{"userinfo"}, args...)...), exitRefused)
	if r.stdout != "" {
		t.Errorf("stdout %q after a refusal", r.stdout)
	}
}

func TestTimeout(t *testing.T) {
	f := newFixture(t)
	f.srv.FailNext(1, serviceusertest.Fault{Hang: true})
	r := f.run(t, nil, "-key", f.keyPath, "-issuer", f.srv.Issuer(), "-timeout", "300ms")
	checkCode(t, r, exitNetwork) // without the timeout the request would hang
}

func TestScopeFlag(t *testing.T) {
	o := &options{}
	fs := lookupCommand("token").flagSet(o)
	if err := fs.Parse([]string{"-scope", " openid  profile ", "-scope", "email"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"openid", "profile", "email"}; !slices.Equal(o.scopeValues(), want) {
		t.Errorf("scopes %q, want %q", o.scopeValues(), want)
	}
	if got := (&options{}).scopeValues(); !slices.Equal(got, []string{"openid"}) {
		t.Errorf("default scopes %q", got)
	}
	if err := fs.Parse([]string{"-scope", " "}); err == nil {
		t.Error("an empty -scope was accepted")
	}
}

func TestExitCodeMapping(t *testing.T) {
	if got := exitCode(errors.New("something else")); got != exitFailure {
		t.Errorf("exitCode(plain error) = %d, want %d", got, exitFailure)
	}
	if got := exitCode(fmt.Errorf("wrapped: %w", context.DeadlineExceeded)); got != exitNetwork {
		t.Errorf("exitCode(deadline) = %d, want %d", got, exitNetwork)
	}
}

// End-to-end tests of the built binary.

var (
	binDir    string
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "zitadel-token-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines outlived the tests:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// toolBinary builds the tool once for all tests that need it.
func toolBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		path := filepath.Join(binDir, "zitadel-token")
		if runtime.GOOS == "windows" {
			path += ".exe"
		}
		out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		binPath = path
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// runBinary runs the built tool with the test's environment minus the
// variables the tool reads, plus an empty cache directory and env.
func (f *fixture) runBinary(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return f.runBinaryInput(t, "", env, args...)
}

// runBinaryInput is runBinary with stdin as standard input.
func (f *fixture) runBinaryInput(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	cmd, stdout, stderr := binaryCommand(t, stdin, env, args...)
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running the tool: %v", err)
	}
	r := result{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
	f.checkOutput(t, args, r)
	return r
}

// runDeadline bounds each run of the tool: far more than a run takes on a
// busy machine, and still an end to a tool that hangs.
const runDeadline = 2 * time.Minute

// binaryCommand prepares a run of the built tool, killed at runDeadline.
// The tool is built first, so that building does not count against the
// deadline.
func binaryCommand(t *testing.T, stdin string, env []string, args ...string) (cmd *exec.Cmd, stdout, stderr *bytes.Buffer) {
	t.Helper()
	bin := toolBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	t.Cleanup(cancel)
	cmd = exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = time.Second // the pipes are not held open past the kill
	cmd.Stdin = strings.NewReader(stdin)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ZITADEL_") && !strings.HasPrefix(kv, "XDG_CACHE_HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// A cache of the test's own, never the user's.
	cmd.Env = append(append(cmd.Env, "XDG_CACHE_HOME="+t.TempDir()), env...)
	stdout, stderr = new(bytes.Buffer), new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd, stdout, stderr
}

func TestBinaryDemo(t *testing.T) {
	for _, args := range [][]string{{"demo"}, {"-demo"}} {
		r := (&fixture{}).runBinary(t, nil, args...)
		checkCode(t, r, exitOK)
		if !strings.HasPrefix(r.stdout, "demo: started a local ZITADEL at http://127.0.0.1:") || !strings.HasSuffix(r.stdout, "demo: ok\n") {
			t.Errorf("demo output:\n%s", r.stdout)
		}
	}
	r := (&fixture{}).runBinary(t, nil)
	checkCode(t, r, exitUsage)
}

func TestBinaryToken(t *testing.T) {
	f := newFixture(t)
	r := f.runBinary(t, nil, "token", "-key", f.keyPath, "-issuer", f.srv.Issuer())
	checkCode(t, r, exitOK)
	tok := strings.TrimSuffix(r.stdout, "\n")
	f.addToken(tok)
	checkTokenWorks(t, f, tok)

	r = f.runBinary(t, []string{envKey + "=" + f.keyPath, envIssuer + "=" + f.srv.Issuer()}, "userinfo")
	checkCode(t, r, exitOK)
	if !strings.Contains(r.stdout, f.user.UserID) {
		t.Errorf("userinfo printed %q", r.stdout)
	}

	checkCode(t, f.runBinary(t, nil, "frobnicate"), exitUsage)
	checkCode(t, f.runBinary(t, nil, "-key", filepath.Join(t.TempDir(), "none.json"), "-issuer", f.srv.Issuer()), exitKey)
	f.srv.FailNext(10, serviceusertest.Fault{Status: http.StatusInternalServerError}) // a single 500 is retried within the wait
	checkCode(t, f.runBinary(t, nil, "-key", f.keyPath, "-issuer", f.srv.Issuer()), exitRefused)
	checkCode(t, f.runBinary(t, nil, "-key", f.keyPath, "-issuer", "http://"+closedAddr(t)), exitNetwork)
}

// introspectFixture adds an API application to a fixture, its key file on
// disk, and returns the arguments that introspect with it.
func introspectFixture(t *testing.T) (*fixture, *serviceusertest.Application, []string) {
	t.Helper()
	f := newFixture(t)
	app := f.srv.NewApplication()
	f.scope = "openid " + app.AudienceScope() // introspection needs the API's project in the audience
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
	now := time.Now().Truncate(time.Second)
	f.srv.SetNow(func() time.Time { return now }) // the token's expiry is then known
	jwt := userToken(t, f)
	f.srv.SetNow(nil)
	pat := f.srv.NewPersonalAccessToken(f.user.UserID, time.Time{})
	f.addToken(pat)

	want := "active: true\nsub: " + f.user.UserID + "\nusername: " + f.user.Username + "\n"
	wantExpires := "\nexpires: " + now.Add(serviceusertest.DefaultTokenLifetime).UTC().Format(time.RFC3339) + "\n"
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
			if !strings.HasPrefix(r.stdout, want+"scope: openid ") || !strings.HasSuffix(r.stdout, wantExpires) ||
				strings.Count(r.stdout, "\n") != 5 {
				t.Errorf("stdout %q, want %q, a scope line and %q", r.stdout, want, wantExpires)
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

	f.srv.FailNextIntrospection(1, serviceusertest.Fault{Status: http.StatusInternalServerError})
	checkCode(t, f.runInput(t, jwt, nil, args...), exitRefused)

	f.srv.FailNextIntrospection(1, serviceusertest.Fault{Hang: true})
	checkCode(t, f.runInput(t, jwt, nil, append(slices.Clone(args), "-timeout", "300ms")...), exitNetwork)
	checkCode(t, f.runInput(t, jwt, nil, args...), exitOK)
}

func readFileBytes(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
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

// truncatingServer answers every request with status, headers announcing a
// longer body than it sends, part of a body, then drops the connection.
func truncatingServer(t *testing.T, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"error\":\"ser",
			status, http.StatusText(status))
		buf.Flush()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestConnectionDroppedMidBody(t *testing.T) {
	f, _, introspectArgs := introspectFixture(t)
	jwt := userToken(t, f)
	for _, status := range []int{http.StatusOK, http.StatusBadRequest, http.StatusInternalServerError} {
		cut := truncatingServer(t, status)
		cases := map[string][]string{
			"token URL":         {"-key", f.keyPath, "-issuer", f.srv.Issuer(), "-token-url", cut + "/oauth/v2/token"},
			"discovery":         {"-key", f.keyPath, "-issuer", cut},
			"userinfo URL":      {"userinfo", "-key", f.keyPath, "-issuer", f.srv.Issuer(), "-userinfo-url", cut + "/oidc/v1/userinfo"},
			"introspection URL": append(slices.Clone(introspectArgs), "-token", jwt, "-introspection-url", cut+"/oauth/v2/introspect"),
		}
		for name, args := range cases {
			t.Run(fmt.Sprintf("%s %d", name, status), func(t *testing.T) {
				r := f.run(t, nil, args...)
				checkCode(t, r, exitNetwork)
			})
		}
	}
	checkCode(t, f.runBinary(t, nil, "-key", f.keyPath, "-issuer", f.srv.Issuer(),
		"-token-url", truncatingServer(t, http.StatusOK)+"/oauth/v2/token"), exitNetwork)
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
		done <- run(ctx, append(args, "-introspection-url", f.srv.IntrospectionURL()), stdin, &stdout, &stderr, nil)
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
