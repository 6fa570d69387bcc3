package urlpolicy

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestCheckAccepts: https to any host and port, and plain http to the
// loopback hosts (127.0.0.0/8, ::1, localhost and its subdomains), carry
// credentials without the opt-in; Go reads schemes case-insensitively, and
// so does the rule.
func TestCheckAccepts(t *testing.T) {
	for _, raw := range []string{
		"https://zitadel.example.com",
		"https://zitadel.example.com/oauth/v2/token?x=1",
		"https://zitadel.example.com:8443",
		"https://10.0.0.1",
		"https://[2001:db8::1]:8443",
		"HTTPS://zitadel.example.com",
		"http://127.0.0.1",
		"http://127.0.0.1:8080/oauth/v2/token",
		"http://127.1.2.3:8080",
		"http://127.255.255.254",
		"http://[::1]",
		"http://[::1]:8080",
		"http://[0:0:0:0:0:0:0:1]:8080",
		"http://[::ffff:127.0.0.1]:8080",
		"http://localhost",
		"http://localhost:8080",
		"http://zitadel.localhost:8080",
		"HTTP://localhost:8080",
	} {
		assert.NoError(t, Check(raw, false), raw)
	}
}

// TestCheckRefusesPlainHTTPToOtherHosts: plain http to a host that is not
// loopback is refused with ErrInsecureURL and the way to opt in, however the
// host is written: names that merely start or end like a loopback name,
// loopback addresses as DNS names, trailing dots, other address spellings,
// and addresses that are local but not loopback.
func TestCheckRefusesPlainHTTPToOtherHosts(t *testing.T) {
	for _, raw := range []string{
		"http://zitadel.example.com",
		"HTTP://zitadel.example.com",
		"http://zitadel.example.com:80",
		"http://localhost.evil.com",
		"http://localhost.evil.com:8080",
		"http://evillocalhost",
		"http://localhostx",
		"http://127.0.0.1.nip.io",
		"http://127.0.0.1.nip.io:8080",
		"http://localhost.",
		"http://127.0.0.1.",
		"http://127.1",
		"http://0x7f.0.0.1",
		"http://2130706433",
		"http://0.0.0.0",
		"http://[::]",
		"http://10.0.0.1",
		"http://192.168.1.10:8080",
		"http://[fe80::1%25eth0]",
		"http://[::1%25lo]",
		"http://[2001:db8::1]",
		"http://128.0.0.1",
	} {
		err := Check(raw, false)
		require.Error(t, err, raw)
		assert.ErrorIs(t, err, ErrInsecureURL, raw)
		assert.Contains(t, err.Error(), "InsecureAllowPlainHTTP", raw)
		assert.NoError(t, Check(raw, true), "%s with the opt-in", raw)
	}
}

// TestCheckRefusesWhatNoOptInAllows: URLs that are not absolute http(s) URLs
// with a host, or that hold user info, are refused with or without the
// opt-in, and not as ErrInsecureURL: the opt-in would not help.
func TestCheckRefusesWhatNoOptInAllows(t *testing.T) {
	cases := map[string]struct{ raw, says string }{
		"empty":                 {"", "not an absolute URL"},
		"no scheme":             {"zitadel.example.com", "not an absolute URL"},
		"path only":             {"/oauth/v2/token", "not an absolute URL"},
		"scheme-relative":       {"//zitadel.example.com", "scheme must be https"},
		"no host":               {"https://", "not an absolute URL"},
		"no host, a path":       {"https:///oauth/v2/token", "not an absolute URL"},
		"opaque":                {"https:zitadel.example.com", "not an absolute URL"},
		"file":                  {"file:///etc/passwd", "not an absolute URL"},
		"ftp":                   {"ftp://zitadel.example.com", "scheme must be https"},
		"ws":                    {"ws://localhost:8080", "scheme must be https"},
		"wss":                   {"wss://zitadel.example.com", "scheme must be https"},
		"mailto":                {"mailto:ops@example.com", "not an absolute URL"},
		"invalid port":          {"http://localhost:port", "not an absolute URL"},
		"space":                 {"https://zitadel example.com", "not an absolute URL"},
		"empty IPv6 literal":    {"https://[]:443", "not an absolute URL"},
		"unclosed IPv6 literal": {"http://[::1:8080", "not an absolute URL"},
		"user":                  {"https://user@zitadel.example.com", "user info"},
		"user and password":     {"https://user:pw@zitadel.example.com", "user info"},
		"user, loopback":        {"http://user:pw@localhost:8080", "user info"},
		"empty user info":       {"https://@zitadel.example.com", "user info"},
		"host as user info":     {"http://localhost@zitadel.example.com", "user info"},
	}
	for name, tc := range cases {
		for _, allow := range []bool{false, true} {
			err := Check(tc.raw, allow)
			if assert.Error(t, err, "%s (opt-in %v)", name, allow) {
				assert.Contains(t, err.Error(), tc.says, "%s (opt-in %v)", name, allow)
				assert.NotErrorIs(t, err, ErrInsecureURL, "%s (opt-in %v)", name, allow)
			}
		}
	}
}

// TestCheckNeedsAHostName: a URL whose authority is only a port names no
// host (Go would dial the local machine); it is refused like one without
// an authority, whatever its scheme.
func TestCheckNeedsAHostName(t *testing.T) {
	for _, raw := range []string{"https://:443", "https://:8443/oauth/v2/token", "http://:8080"} {
		for _, allow := range []bool{false, true} {
			err := Check(raw, allow)
			if assert.Error(t, err, "%s (opt-in %v)", raw, allow) {
				assert.Contains(t, err.Error(), "not an absolute URL", raw)
				assert.NotErrorIs(t, err, ErrInsecureURL, raw)
			}
		}
	}
}

// TestCheckLoopbackNameIgnoresCase: host names are case-insensitive, so
// LOCALHOST is as loopback as localhost.
func TestCheckLoopbackNameIgnoresCase(t *testing.T) {
	for _, raw := range []string{"http://LOCALHOST:8080", "http://LocalHost", "http://zitadel.LOCALHOST:8080"} {
		assert.NoError(t, Check(raw, false), raw)
	}
	assert.ErrorIs(t, Check("http://LOCALHOST.evil.com", false), ErrInsecureURL)
}

// TestCheckNeverEchoesUserInfo: a refusal names the URL without the
// credentials it holds, also when the URL does not parse.
func TestCheckNeverEchoesUserInfo(t *testing.T) {
	const secret = "pw-5e1f9a"
	for _, raw := range []string{
		"https://user:" + secret + "@zitadel.example.com",
		"http://" + secret + "@zitadel.example.com",
		"http://user:" + secret + "@zitadel.example.com:port",
		"https://user:" + secret + "%zz@zitadel.example.com",
	} {
		err := Check(raw, false)
		if assert.Error(t, err, raw) {
			assert.NotContains(t, err.Error(), secret, raw)
			assert.Contains(t, err.Error(), "zitadel.example.com", "the refusal still names the host")
		}
	}
}

// TestInsecureURLErrorIsOnlyErrInsecureURL: the refusal matches the
// sentinel, not other errors, and names the URL.
func TestInsecureURLErrorIsOnlyErrInsecureURL(t *testing.T) {
	err := Check("http://zitadel.example.com/oauth/v2/token", false)
	assert.ErrorIs(t, err, ErrInsecureURL)
	assert.NotErrorIs(t, err, errors.New(ErrInsecureURL.Error()))
	assert.Contains(t, err.Error(), `"http://zitadel.example.com/oauth/v2/token" uses plain http`)
}

// TestIsLoopback: the names and addresses that stay on the machine, and
// look-alikes that do not.
func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "a.localhost": true, "a.b.localhost": true, "LOCALHOST": true, "Svc.LocalHost": true,
		"127.0.0.1": true, "127.0.0.0": true, "127.255.255.255": true, "::1": true, "0:0:0:0:0:0:0:1": true, "::ffff:127.0.0.1": true,
		"": false, "localhost.": false, ".localhost.": false, "localhost.evil.com": false, "evillocalhost": false, "127.0.0.1.nip.io": false,
		"127.1": false, "128.0.0.1": false, "0.0.0.0": false, "::": false, "[::1]": false, "::1%lo": false, "10.0.0.1": false, "example.com": false,
	} {
		assert.Equal(t, want, IsLoopback(host), "%q", host)
	}
}

// TestNormalizeIssuer: the issuer loses surrounding space and trailing
// slashes, keeps its path, and is checked as any URL that carries a
// credential.
func TestNormalizeIssuer(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"as is":                 {"https://zitadel.example.com", "https://zitadel.example.com"},
		"trailing slash":        {"https://zitadel.example.com/", "https://zitadel.example.com"},
		"trailing slashes":      {"https://zitadel.example.com///", "https://zitadel.example.com"},
		"space":                 {"  https://zitadel.example.com/ \n", "https://zitadel.example.com"},
		"port":                  {"https://zitadel.example.com:8443/", "https://zitadel.example.com:8443"},
		"path":                  {"https://example.com/zitadel", "https://example.com/zitadel"},
		"path, trailing slash":  {"https://example.com/zitadel/", "https://example.com/zitadel"},
		"loopback http":         {"http://localhost:8080/", "http://localhost:8080"},
		"IPv6 loopback":         {"http://[::1]:8080", "http://[::1]:8080"},
		"inner slashes kept":    {"https://example.com//zitadel/", "https://example.com//zitadel"},
		"uppercase scheme kept": {"HTTPS://zitadel.example.com", "HTTPS://zitadel.example.com"},
	}
	for name, tc := range cases {
		got, err := NormalizeIssuer(tc.in, false)
		if assert.NoError(t, err, name) {
			assert.Equal(t, tc.want, got, name)
		}
	}

	got, err := NormalizeIssuer("http://zitadel.zitadel.svc:8080/", true)
	require.NoError(t, err, "the opt-in accepts plain http to any host")
	assert.Equal(t, "http://zitadel.zitadel.svc:8080", got)
	_, err = NormalizeIssuer("http://zitadel.zitadel.svc:8080/", false)
	assert.ErrorIs(t, err, ErrInsecureURL)

	for _, missing := range []string{"", "   ", "/", "//", " / "} {
		_, err := NormalizeIssuer(missing, true)
		if assert.Error(t, err, "%q", missing) {
			assert.Equal(t, "missing", err.Error(), "%q", missing)
		}
	}
	for _, bad := range []string{"zitadel.example.com", "ftp://zitadel.example.com", "https://u:p@zitadel.example.com", "https:///x", "https://:443"} {
		_, err := NormalizeIssuer(bad, true)
		assert.Error(t, err, bad)
	}
}

// TestNormalizeIssuerRefusesQueryAndFragment: an issuer is a scheme, host
// and optional path (OpenID Connect Discovery 1.0, section 4.3): with a
// query or fragment, the discovery URL built from it and the assertion's
// audience would both be wrong, so it is refused before any request, even
// when empty.
func TestNormalizeIssuerRefusesQueryAndFragment(t *testing.T) {
	for _, bad := range []string{
		"https://zitadel.example.com?tenant=a",
		"https://zitadel.example.com/?tenant=a",
		"https://zitadel.example.com?",
		"https://zitadel.example.com/#",
		"https://zitadel.example.com#frag",
		"https://example.com/zitadel#/",
		"https://example.com/zitadel?x=1/",
	} {
		for _, allow := range []bool{false, true} {
			_, err := NormalizeIssuer(bad, allow)
			if assert.Error(t, err, bad) {
				assert.True(t, strings.Contains(err.Error(), "query") || strings.Contains(err.Error(), "fragment"), "%s: %v", bad, err)
			}
		}
	}
	// Check itself accepts queries: token and introspection URLs may have them.
	assert.NoError(t, Check("https://zitadel.example.com/oauth/v2/token?x=1", false))
}
