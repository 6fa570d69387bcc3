package route

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-serviceuser/serviceuser/internal/urlpolicy"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	issuer  = "https://auth.example.com"
	address = "http://zitadel.zitadel.svc:8080"
)

// mustParse is Parse of a route that must be accepted.
func mustParse(t *testing.T, iss string, s Spec) *Route {
	t.Helper()
	r, p := Parse(iss, s, false)
	require.Nil(t, p, "%+v", p)
	return r
}

// TestParseNormalizesIssuer: the issuer is kept without trailing slashes
// and surrounding space, with its path; an empty one is refused unless
// optional.
func TestParseNormalizesIssuer(t *testing.T) {
	for in, want := range map[string]string{
		issuer:                       issuer,
		issuer + "/":                 issuer,
		" " + issuer + "// ":         issuer,
		"https://example.com/z/":     "https://example.com/z",
		"http://localhost:8080/":     "http://localhost:8080",
		"https://auth.example.com:1": "https://auth.example.com:1",
	} {
		assert.Equal(t, want, mustParse(t, in, Spec{}).Issuer(), in)
	}

	for _, empty := range []string{"", "  "} {
		_, p := Parse(empty, Spec{}, false)
		if assert.NotNil(t, p, "%q", empty) {
			assert.Equal(t, "Issuer", p.Field)
			assert.Equal(t, "missing", p.Text)
		}
		r, p := Parse(empty, Spec{}, true)
		require.Nil(t, p, "an optional issuer may be empty")
		assert.Empty(t, r.Issuer())
	}
}

// TestParseOptionalIssuerWithRoute: Address, Header and the opt-in apply to
// requests to the issuer's origin, so each needs an issuer even where the
// issuer is otherwise optional.
func TestParseOptionalIssuerWithRoute(t *testing.T) {
	for name, s := range map[string]Spec{
		"Address": {Address: "https://zitadel.internal"},
		"Header":  {Header: http.Header{"X-A": {"b"}}},
		"opt-in":  {InsecureAllowPlainHTTP: true},
	} {
		_, p := Parse("", s, true)
		if assert.NotNil(t, p, name) {
			assert.Equal(t, "Issuer", p.Field, name)
			assert.Contains(t, p.Text, "missing", name)
		}
	}
}

// TestParseRefusesIssuer: the issuer is checked by the URL policy, with the
// Spec's opt-in; the Problem keeps the cause.
func TestParseRefusesIssuer(t *testing.T) {
	_, p := Parse("http://auth.example.com", Spec{}, false)
	require.NotNil(t, p)
	assert.Equal(t, "Issuer", p.Field)
	assert.ErrorIs(t, p.Err, urlpolicy.ErrInsecureURL)
	assert.Equal(t, p.Err.Error(), p.Text)
	assert.Equal(t, "http://auth.example.com", mustParse(t, "http://auth.example.com", Spec{InsecureAllowPlainHTTP: true}).Issuer())

	for _, bad := range []string{"auth.example.com", "ftp://auth.example.com", "https://u:p@auth.example.com", "https://auth.example.com?x=1"} {
		_, p := Parse(bad, Spec{InsecureAllowPlainHTTP: true}, true)
		if assert.NotNil(t, p, bad) {
			assert.Equal(t, "Issuer", p.Field, bad)
			assert.Error(t, p.Err, bad)
		}
	}
}

// TestParseAddress: an Address is an http(s) origin, nothing more; plain
// http to a host that is not loopback needs the opt-in, and refusals never
// echo user info.
func TestParseAddress(t *testing.T) {
	for _, ok := range []string{"https://zitadel.internal", "https://zitadel.internal:8443/", " https://zitadel.internal ",
		"http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080", "HTTPS://zitadel.internal"} {
		_, p := Parse(issuer, Spec{Address: ok}, false)
		assert.Nil(t, p, "%q: %+v", ok, p)
	}
	for _, bad := range []string{"https://zitadel.internal/base", "https://zitadel.internal?x=1", "https://zitadel.internal#f",
		"zitadel.internal:8080", "zitadel.internal", "ftp://zitadel.internal", "ws://zitadel.internal", "https://", "https://:8443",
		"https://u:pw-3c9e@zitadel.internal", "https://zitadel.internal:port", "/oauth"} {
		for _, allow := range []bool{false, true} {
			_, p := Parse(issuer, Spec{Address: bad, InsecureAllowPlainHTTP: allow}, false)
			if assert.NotNil(t, p, bad) {
				assert.Equal(t, "Address", p.Field, bad)
				assert.NotContains(t, p.Text, "pw-3c9e")
			}
		}
	}

	_, p := Parse(issuer, Spec{Address: address}, false)
	require.NotNil(t, p)
	assert.Equal(t, "Address", p.Field)
	assert.ErrorIs(t, p.Err, urlpolicy.ErrInsecureURL)
	_, p = Parse(issuer, Spec{Address: address, InsecureAllowPlainHTTP: true}, false)
	assert.Nil(t, p, "the opt-in allows a plain-http address")
}

// TestParseRefusesHeader: extra headers may not replace the library's own
// (in any spelling), must be well-formed, and may not smuggle lines; the
// refusal names the header, never its value.
func TestParseRefusesHeader(t *testing.T) {
	const value = "hv-8f2a41"
	cases := map[string]struct {
		h    http.Header
		says string
	}{
		"Authorization":           {http.Header{"Authorization": {value}}, "token"},
		"authorization":           {http.Header{"authorization": {value}}, "token"},
		"Proxy-Authorization":     {http.Header{"proxy-authorization": {value}}, "ProxyConnectHeader"},
		"Content-Type":            {http.Header{"Content-Type": {value}}, "set by the library"},
		"Content-Length":          {http.Header{"CONTENT-LENGTH": {value}}, "set by the library"},
		"Host":                    {http.Header{"host": {value}}, "set Address"},
		"instance host":           {http.Header{"x-zitadel-instance-host": {value}}, "set Address"},
		"instance host canonical": {http.Header{"X-Zitadel-Instance-Host": {value}}, "set Address"},
		"space in name":           {http.Header{"Bad Name": {value}}, "not a valid header name"},
		"colon in name":           {http.Header{"X-A:": {value}}, "not a valid header name"},
		"empty name":              {http.Header{"": {value}}, "not a valid header name"},
		"non-ASCII name":          {http.Header{"X-Ä": {value}}, "not a valid header name"},
		"CRLF in value":           {http.Header{"X-Ok": {value + "\r\nAuthorization: Bearer x"}}, "line break"},
		"LF in second value":      {http.Header{"X-Ok": {"fine", value + "\n"}}, "line break"},
		"NUL in value":            {http.Header{"X-Ok": {value + "\x00"}}, "control character"},
		"DEL in value":            {http.Header{"X-Ok": {value + "\x7f"}}, "control character"},
	}
	for name, tc := range cases {
		_, p := Parse(issuer, Spec{Header: tc.h}, false)
		if assert.NotNil(t, p, name) {
			assert.Equal(t, "Header", p.Field, name)
			assert.Contains(t, p.Text, tc.says, name)
			assert.NotContains(t, p.Text, value, name)
		}
	}

	long := strings.Repeat("X", 500)
	_, p := Parse(issuer, Spec{Header: http.Header{long + " ": {"v"}}}, false)
	require.NotNil(t, p)
	assert.Less(t, len(p.Text), 200, "a long header name is shortened")

	_, p = Parse(issuer, Spec{Header: http.Header{"X-Tab": {"a\tb"}, "X-Empty": {""}, "X-Utf8": {"ä"}}}, false)
	assert.Nil(t, p, "tabs, empty values and non-ASCII values are ordinary")
}

// TestParseCopiesHeader: the route keeps its own copy of Header, under
// canonical names: changing the Spec's afterwards changes no request.
func TestParseCopiesHeader(t *testing.T) {
	h := http.Header{"x-a": {"1"}} // a name that is not canonical, as a user may write it
	r := mustParse(t, issuer, Spec{Header: h})
	//lint:ignore SA1008 the test changes the value under the name it gave
	h["x-a"][0] = "changed"
	h["X-B"] = []string{"added"}
	base := &recorder{}
	send(t, r.Transport(base), issuer+"/x")
	got := base.requests()[0].Header
	assert.Equal(t, []string{"1"}, got["X-A"])
	assert.NotContains(t, got, "x-a")
	assert.NotContains(t, got, "X-B")
}

// TestParseMergesHeaderSpellingsInOrder: two spellings of one header are
// one header with both values, in the same order on every Parse.
func TestParseMergesHeaderSpellingsInOrder(t *testing.T) {
	spec := Spec{Header: http.Header{"x-a": {"1"}, "X-A": {"2"}, "X-a": {"3"}}}
	var first []string
	for i := range 50 {
		base := &recorder{}
		send(t, mustParse(t, issuer, spec).Transport(base), issuer)
		got := base.requests()[0].Header["X-A"]
		require.ElementsMatch(t, []string{"1", "2", "3"}, got)
		if i == 0 {
			first = got
		}
		require.Equal(t, first, got, "Parse %d merged the spellings in another order", i)
	}
}

// TestCaller: the caller of the token pipeline sends every request to
// ZITADEL: those to the issuer's origin go to the address, and all,
// including those to endpoints at other origins, carry the extra headers;
// it takes the route's opt-in and the timeout, and leaves the client it
// was given alone.
func TestCaller(t *testing.T) {
	base := &recorder{}
	client := &http.Client{Transport: base}
	r := mustParse(t, issuer, Spec{Address: address, Header: http.Header{"X-A": {"b"}}, InsecureAllowPlainHTTP: true})
	c := r.Caller(client, 3*time.Second)
	assert.True(t, c.AllowPlainHTTP)
	assert.Equal(t, 3*time.Second, c.Timeout)
	assert.Same(t, base, client.Transport, "the client given is not changed")

	for _, u := range []string{issuer + "/.well-known/openid-configuration", "https://api.example.com/oauth/v2/token"} {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		resp, _, err := c.Do(t.Context(), req)
		require.NoError(t, err)
		assert.Equal(t, u, resp.Request.URL.String())
	}
	seen := base.requests()
	require.Len(t, seen, 2)
	assert.Equal(t, address+"/.well-known/openid-configuration", seen[0].URL.String())
	assert.Equal(t, "auth.example.com", seen[0].Header.Get(HeaderInstanceHost))
	assert.Equal(t, "b", seen[0].Header.Get("X-A"))
	assert.Equal(t, "https://api.example.com/oauth/v2/token", seen[1].URL.String(), "other origins are not rewritten")
	assert.Empty(t, seen[1].Header.Get(HeaderInstanceHost))
	assert.Equal(t, "b", seen[1].Header.Get("X-A"), "but are ZITADEL's: they carry the headers")

	plain := mustParse(t, issuer, Spec{}).Caller(client, 0)
	assert.False(t, plain.AllowPlainHTTP)
	assert.Same(t, base, plain.Client.Transport, "a route that changes nothing adds no layer")
}

// TestAllowsPlainHTTP: with the opt-in, plain http is allowed to the
// issuer's and the address's origins, however spelled, and to no other;
// without it, or without a route, to none.
func TestAllowsPlainHTTP(t *testing.T) {
	u := func(raw string) *url.URL {
		parsed, err := url.Parse(raw)
		require.NoError(t, err)
		return parsed
	}
	r := mustParse(t, "http://auth.example.com", Spec{Address: address, InsecureAllowPlainHTTP: true})
	for raw, want := range map[string]bool{
		"http://auth.example.com/x":    true,
		"HTTP://AUTH.example.com:80/x": true,
		address + "/x":                 true,
		"http://zitadel.zitadel.svc/x": false,
		"http://auth.example.com:81/x": false,
		"https://auth.example.com/x":   false,
		"http://api.example.com/x":     false,
		"http://example.com/x":         false,
	} {
		assert.Equal(t, want, r.AllowsPlainHTTP(u(raw)), raw)
	}

	var none *Route
	assert.False(t, none.AllowsPlainHTTP(u("http://auth.example.com/x")), "nil route")
	assert.False(t, mustParse(t, "http://localhost:8080", Spec{}).AllowsPlainHTTP(u("http://localhost:8080/x")), "no opt-in")
	assert.False(t, (&Route{}).AllowsPlainHTTP(u("http://auth.example.com/x")), "zero route")
}

// TestCheckURL: configured endpoints are checked by the URL policy with the
// route's opt-in.
func TestCheckURL(t *testing.T) {
	const token = "http://zitadel.example.com/oauth/v2/token"
	assert.ErrorIs(t, mustParse(t, issuer, Spec{}).CheckURL(token), urlpolicy.ErrInsecureURL)
	assert.ErrorIs(t, (&Route{}).CheckURL(token), urlpolicy.ErrInsecureURL)
	assert.NoError(t, mustParse(t, issuer, Spec{InsecureAllowPlainHTTP: true}).CheckURL(token))
	assert.NoError(t, mustParse(t, issuer, Spec{}).CheckURL("http://127.0.0.1:8080/oauth/v2/token"))
	assert.Error(t, mustParse(t, issuer, Spec{InsecureAllowPlainHTTP: true}).CheckURL("https://u:p@zitadel.example.com/oauth/v2/token"))
}
