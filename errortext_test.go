package serviceuser_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
)

// maxErrorText is the bound on the text of an error built from an answer:
// its prefix, the status, the code (at most 100 bytes), the description (at
// most 300) and the hint.
const maxErrorText = 1 << 10

// hostileKeys are a service user key and an API application key, made once:
// RSA keys are slow to make.
var hostileKeys = sync.OnceValues(func() (*serviceuser.KeyFile, *serviceuser.KeyFile) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	user, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
	if err != nil {
		panic(err)
	}
	app, err := serviceuser.ParseKeyFile(srv.NewApplication().KeyFile)
	if err != nil {
		panic(err)
	}
	return user, app
})

// hostileAnswer is what a hostile endpoint, or a proxy in front of it, sends.
type hostileAnswer struct {
	status      int
	contentType string
	body        string
}

func oauthAnswer(status int, code, description string) hostileAnswer {
	b, err := json.Marshal(map[string]string{"error": code, "error_description": description})
	if err != nil {
		panic(err)
	}
	return hostileAnswer{status, "application/json", string(b)}
}

// forged is a log line a hostile server tries to slip into the caller's log.
const forged = "level=INFO msg=token-refreshed"

// hostileAnswers are OAuth error answers whose code or description carries
// control characters or is huge.
var hostileAnswers = map[string]hostileAnswer{
	"CR":               oauthAnswer(400, "invalid_grant", "bad\r"+forged),
	"LF":               oauthAnswer(400, "invalid_grant", "bad\n"+forged),
	"CRLF in code":     oauthAnswer(400, "invalid_grant\r\n"+forged, "bad"),
	"ESC sequence":     oauthAnswer(400, "invalid_grant\x1b[2K\x1b[1G", "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07\x1b[31mred"),
	"C1, DEL, bidi":    oauthAnswer(400, "invalid_grant\u0085\u009b", "bad\u007f\u202etxt.exe\u2028\u2066"+forged),
	"200 KiB code":     oauthAnswer(400, strings.Repeat("x", 200<<10), "bad"),
	"200 KiB desc":     oauthAnswer(400, "invalid_grant", strings.Repeat("bad ", 50<<10)),
	"404 text":         {404, "text/plain", "404 page not found\r" + forged + "\x1b[0m"},
	"404 text 200 KiB": {404, "text/plain; charset=utf-8", strings.Repeat("not found ", 20<<10)},
}

// hostileServer serves a usable discovery document for its own URL and
// answers every other request with a.
func hostileServer(t *testing.T, a hostileAnswer) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/openid-configuration" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":"%[1]s/token","userinfo_endpoint":"%[1]s/userinfo","introspection_endpoint":"%[1]s/introspect"}`, srv.URL)
			return
		}
		w.Header().Set("Content-Type", a.contentType)
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// endpointCalls make one request to an endpoint of srv and return its error.
var endpointCalls = map[string]func(t *testing.T, srv *httptest.Server) error{
	serviceuser.EndpointToken: func(t *testing.T, srv *httptest.Server) error {
		key, _ := hostileKeys()
		_, err := serviceuser.Config{Key: key, Issuer: srv.URL}.Token(context.Background())
		return err
	},
	serviceuser.EndpointUserinfo: func(t *testing.T, srv *httptest.Server) error {
		_, err := userinfo.Fetch(context.Background(), srv.Client(), srv.URL+"/userinfo")
		return err
	},
	serviceuser.EndpointIntrospection: func(t *testing.T, srv *httptest.Server) error {
		_, key := hostileKeys()
		in, err := introspection.Config{Key: key, Issuer: srv.URL}.NewIntrospector(context.Background())
		require.NoError(t, err)
		_, err = in.Introspect(context.Background(), strings.Repeat("some-token", 10))
		return err
	},
}

// TestErrorTextIsOneBoundedLine: whatever the token, userinfo or
// introspection endpoint answers, the error's text, its fields and those of
// the *oauth2.RetrieveError it wraps hold no control character (C0, DEL,
// C1, line and paragraph separators, bidi and other format characters) and
// are bounded; so are %v, %+v and slog's output of it.
func TestErrorTextIsOneBoundedLine(t *testing.T) {
	for endpoint, call := range endpointCalls {
		for name, a := range hostileAnswers {
			t.Run(endpoint+"/"+name, func(t *testing.T) {
				err := call(t, hostileServer(t, a))
				var te *serviceuser.TokenError
				require.ErrorAs(t, err, &te)
				assert.Equal(t, endpoint, te.Endpoint)
				assert.Equal(t, a.status, te.StatusCode)
				requireOneBoundedLine(t, err, maxErrorText)
				assertOneLine(t, "Code", te.Code, 100)
				assertOneLine(t, "Description", te.Description, 300)

				var re *oauth2.RetrieveError
				require.ErrorAs(t, err, &re)
				assertOneLine(t, "RetrieveError.ErrorCode", re.ErrorCode, 100)
				assertOneLine(t, "RetrieveError.ErrorDescription", re.ErrorDescription, 2<<10)
				assertOneLine(t, "RetrieveError.Status", re.Response.Status, 200)
				if re.ErrorCode != "" { // without a code, x/oauth2 prints the body on a line of its own
					assertOneLine(t, "RetrieveError.Error()", re.Error(), 5<<10)
				}
			})
		}
	}
}

// TestDiscoveryErrorTextIsOneBoundedLine: discovery echoes ZITADEL's plain
// text answer for an unknown instance; it too becomes one bounded line.
func TestDiscoveryErrorTextIsOneBoundedLine(t *testing.T) {
	const text = "unable to set instance using origin &{localhost}: Instance not found."
	for name, a := range map[string]hostileAnswer{
		"CR":           {404, "text/plain", text + "\r" + forged},
		"ESC sequence": {404, "text/plain", text + "\x1b[2K\x1b[1G" + forged},
		"bidi":         {404, "text/plain", text + "\u202e\u2066" + forged},
		"200 KiB":      {404, "text/plain", text + strings.Repeat(" Instance not found.", 10<<10)},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", a.contentType)
				w.WriteHeader(a.status)
				_, _ = w.Write([]byte(a.body))
			}))
			t.Cleanup(srv.Close)
			_, err := userinfo.Discover(context.Background(), srv.URL, serviceuser.Route{}, nil)
			var de *serviceuser.DiscoveryError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, err.Error(), "Instance not found", "the answer is still shown")
			requireOneBoundedLine(t, err, maxErrorText)
		})
	}
}

// requireOneBoundedLine checks Error(), %v, %+v and slog's text and JSON
// output of err.
func requireOneBoundedLine(t *testing.T, err error, limit int) {
	t.Helper()
	assertOneLine(t, "Error()", err.Error(), limit)
	assertOneLine(t, "%v", fmt.Sprintf("%v", err), limit)
	assertOneLine(t, "%+v", fmt.Sprintf("%+v", err), limit)
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"slog text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"slog JSON": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Warn("serviceuser: token request failed", "error", err)
		line, ok := strings.CutSuffix(buf.String(), "\n")
		assert.True(t, ok, "%s: a record ends with a line break", name)
		assertOneLine(t, name, line, limit+200)
	}
}

// assertOneLine fails if s holds a character that is not graphic (anything
// but letters, marks, numbers, punctuation, symbols and spaces), is not
// valid UTF-8, or is longer than limit bytes.
func assertOneLine(t *testing.T, what, s string, limit int) {
	t.Helper()
	if i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		t.Errorf("%s holds %U at byte %d: %.200q", what, r, i, s)
	}
	assert.True(t, utf8.ValidString(s), "%s is valid UTF-8", what)
	assert.LessOrEqual(t, len(s), limit, "%s is bounded", what)
}

// TestErrorTextKeepsOrdinaryAnswers: a normal answer reads as the server
// wrote it, and x/oauth2 code still sees the code it compares.
func TestErrorTextKeepsOrdinaryAnswers(t *testing.T) {
	err := endpointCalls[serviceuser.EndpointToken](t, hostileServer(t, oauthAnswer(400, "invalid_request", `Errors.User.NotActive: user "svc" is deactivated (ÄÖ, 日本)`)))
	var re *oauth2.RetrieveError
	require.True(t, errors.As(err, &re))
	assert.Equal(t, "invalid_request", re.ErrorCode)
	assert.Equal(t, `Errors.User.NotActive: user "svc" is deactivated (ÄÖ, 日本)`, re.ErrorDescription)
	assert.Contains(t, err.Error(), `HTTP 400: invalid_request: Errors.User.NotActive: user "svc" is deactivated (ÄÖ, 日本)`)
}

// TestNetworkErrorTextIsBounded: a discovery document may name a token
// endpoint of any length, and the network error that names it is kept to
// one bounded line too.
func TestNetworkErrorTextIsBounded(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		// Nothing listens on port 1 of the loopback address.
		fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":"http://127.0.0.1:1/%s"}`, srv.URL, strings.Repeat("a", 200<<10))
	}))
	t.Cleanup(srv.Close)
	key, _ := hostileKeys()
	_, err := serviceuser.Config{Key: key, Issuer: srv.URL}.Token(context.Background())
	var te *serviceuser.TokenError
	require.ErrorAs(t, err, &te)
	assert.Zero(t, te.StatusCode, "no answer")
	requireOneBoundedLine(t, err, maxErrorText)
}
