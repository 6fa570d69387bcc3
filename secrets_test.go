package serviceuser_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/bearer"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
)

const sentinelToken = "SENTINEL-ACCESS-TOKEN-7f3a9c"

// Sentinels, one per credential kind the library handles besides the keys
// and the assertions, which are checked by their PEM lines and as sent.
const (
	sentinelSecret       = "SENTINEL-CLIENT-SECRET-41b8e2"
	sentinelPAT          = "SENTINEL-PAT-93c0d7"
	sentinelIntrospected = "SENTINEL-INTROSPECTED-5e21aa0000000000000000000000000000000000000000000000000000000000000000000000000000" // shaped as ZITADEL's 104 characters
	sentinelRefresh      = "SENTINEL-REFRESH-TOKEN-0d4e17"
)

// echoingEndpoints are token endpoints that put the request's assertion, or
// an access token, into their error answers in every way they could.
var echoingEndpoints = map[string]func(w http.ResponseWriter, assertion string){
	"description": func(w http.ResponseWriter, a string) {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":"bad assertion %s"}`, a)
	},
	"plain text": func(w http.ResponseWriter, a string) {
		w.WriteHeader(502)
		fmt.Fprintf(w, "proxy error for assertion=%s", a)
	},
	"form echo": func(w http.ResponseWriter, a string) {
		w.WriteHeader(500)
		io.WriteString(w, url.Values{"assertion": {a}}.Encode())
	},
	"token with error": func(w http.ResponseWriter, a string) {
		fmt.Fprintf(w, `{"error":"server_error","access_token":%q}`, sentinelToken)
	},
	"token of wrong type": func(w http.ResponseWriter, a string) {
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"mac","x":%q}`, sentinelToken, sentinelToken)
	},
	"expires_in is the token": func(w http.ResponseWriter, a string) {
		fmt.Fprintf(w, `{"access_token":"x","expires_in":%q}`, a)
	},
	"401 challenge": func(w http.ResponseWriter, a string) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":"invalid_client","error_description":"%s"}`, a)
	},
}

// printed renders v every way a user or a logger might.
func printed(v any) string {
	var b bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		fmt.Fprintf(&b, verb+"\n", v)
	}
	slog.New(slog.NewTextHandler(&b, nil)).Error("failed", "err", v)
	slog.New(slog.NewJSONHandler(&b, nil)).Error("failed", "err", v)
	return b.String()
}

// TestSecretsNeverLeak puts the private key, the assertion and an access
// token through every error path and printer, and looks for them.
func TestSecretsNeverLeak(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	user := srv.NewServiceUser()
	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	require.NoError(t, err)
	var keyFile struct{ Key string }
	require.NoError(t, jsonUnmarshal(user.KeyFile, &keyFile))
	pemLines := strings.Split(keyFile.Key, "\n")

	for name, answer := range echoingEndpoints {
		t.Run(name, func(t *testing.T) {
			var assertion string
			endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				assertion = r.PostForm.Get("assertion")
				answer(w, assertion)
			}))
			defer endpoint.Close()
			cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer(), TokenURL: endpoint.URL}
			ts := tokenSource(t, cfg)
			_, err := ts.Token()
			require.Error(t, err)
			require.NotEmpty(t, assertion)

			var texts []string
			texts = append(texts, printed(err), printed(ts.LastError()), printed(cfg), printed(key), printed(*key), printed(ts))
			var re *oauth2.RetrieveError
			if errors.As(err, &re) {
				texts = append(texts, printed(re), re.Error(), string(re.Body), re.ErrorDescription)
			}
			for _, text := range texts {
				require.NotContains(t, text, assertion)
				require.NotContains(t, text, strings.Split(assertion, ".")[2], "the signature alone")
				require.NotContains(t, text, sentinelToken)
				for _, line := range pemLines[1 : len(pemLines)-2] {
					require.NotContains(t, text, line)
				}
			}
		})
	}
}

func TestTransportErrorsDoNotLeakToken(t *testing.T) {
	c := &http.Client{Transport: &bearer.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: sentinelToken})}}
	_, err := c.Get("http://api.example.com/")
	require.ErrorIs(t, err, serviceuser.ErrInsecureURL)
	require.NotContains(t, printed(err), sentinelToken)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://127.0.0.1:1/", nil)
	_, err = c.Do(req)
	require.Error(t, err)
	require.NotContains(t, printed(err), sentinelToken)
}

// echoServer answers every request with answer, given what it received.
func echoServer(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestUserinfoErrorRedactsSentToken(t *testing.T) {
	srv := echoServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"error":"access_denied","error_description":"token %s has no access"}`, token)
	})
	c := &http.Client{Transport: &bearer.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: sentinelToken})}}
	_, err := userinfo.Fetch(context.Background(), c, srv.URL)
	require.Error(t, err)
	assert.NotContains(t, printed(err), sentinelToken)
	assert.Contains(t, err.Error(), "access_denied")
}

func TestEchoedAuthorizationCredentialsRedacted(t *testing.T) {
	srv := echoServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "refused request with Authorization: %s and Authorization: Bearer xyz-echoed", r.Header.Get("Authorization"))
	})
	cfg := serviceuser.ClientCredentialsConfig{ClientID: "svc", ClientSecret: serviceuser.Secret(sentinelSecret), Issuer: srv.URL, TokenURL: srv.URL}
	_, err := tokenSourceOf(t, cfg).Token()
	require.Error(t, err)
	basic := base64.StdEncoding.EncodeToString([]byte("svc:" + sentinelSecret))
	out := printed(err)
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	out += string(re.Body)
	assert.NotContains(t, out, basic)
	assert.NotContains(t, out, "xyz-echoed")
	assert.Contains(t, out, "Basic [redacted]")
}

func TestFormEncodedTokenResponseRedacted(t *testing.T) {
	srv := echoServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		io.WriteString(w, "access_token="+sentinelToken+"&token_type=bearer&refresh_token="+sentinelRefresh+"&client_assertion=SENTINEL-CA-33")
	})
	cfg := serviceuser.ClientCredentialsConfig{ClientID: "svc", ClientSecret: serviceuser.Secret("secret-1234567"), Issuer: srv.URL, TokenURL: srv.URL}
	_, err := tokenSourceOf(t, cfg).Token()
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	for _, text := range []string{printed(err), re.Error(), string(re.Body)} {
		assert.NotContains(t, text, sentinelToken)
		assert.NotContains(t, text, sentinelRefresh)
		assert.NotContains(t, text, "SENTINEL-CA-33")
	}
	assert.Contains(t, string(re.Body), "token_type=bearer", "what is not a credential stays")
}

func TestPATSourceNeverPrintsToken(t *testing.T) {
	ts := serviceuser.PATConfig{PAT: serviceuser.Secret(sentinelPAT)}.TokenSource(context.Background())
	for _, v := range []any{ts, &bearer.Transport{Source: ts}, bearer.Transport{Source: ts}} {
		out := printed(v)
		for _, verb := range []string{"%x", "%X", "%d"} {
			out += fmt.Sprintf(verb, v)
		}
		assert.NotContains(t, out, sentinelPAT)
		assert.NotContains(t, out, hex.EncodeToString([]byte(sentinelPAT)))
	}
	assert.Contains(t, fmt.Sprintf("%s", ts), "[redacted]")
}

func TestSecretEncoders(t *testing.T) {
	type holder struct{ S serviceuser.Secret }
	v := holder{sentinelSecret}
	x, err := xml.Marshal(v)
	require.NoError(t, err)
	assert.Contains(t, string(x), "[redacted]")
	y, err := yaml.Marshal(v)
	require.NoError(t, err)
	assert.Contains(t, string(y), "[redacted]")
	var gobbed bytes.Buffer
	err = gob.NewEncoder(&gobbed).Encode(v)
	assert.Error(t, err, "gob refuses a Secret")
	for _, out := range []string{string(x), string(y), gobbed.String()} {
		assert.NotContains(t, out, "SENTINEL-CLIENT-SECRET")
	}
}

// echoStyle answers with the credentials in echo (those the request
// carried), in one of the ways a server or proxy may put them into an
// answer; some styles add tokens of their own in the members or fields that
// carry tokens.
type echoStyle struct {
	// okJSON marks a 200 answer with a JSON object: a success, not an error,
	// for userinfo and introspection.
	okJSON bool
	answer func(w http.ResponseWriter, echo []string)
}

// credentialFields are the names under which a server may echo credentials.
var credentialFields = []string{"access_token", "id_token", "refresh_token", "assertion", "client_secret", "client_assertion", "token"}

func writeJSONAnswer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

var echoStyles = map[string]echoStyle{
	"JSON error_description": {answer: func(w http.ResponseWriter, echo []string) {
		writeJSONAnswer(w, 400, map[string]string{"error": "invalid_request", "error_description": "refused " + strings.Join(echo, " ")})
	}},
	"JSON credential members": {answer: func(w http.ResponseWriter, echo []string) {
		members := map[string]string{"error": "invalid_grant"}
		for _, f := range credentialFields {
			members[f] = strings.Join(echo, " ")
		}
		members["access_token"], members["refresh_token"] = sentinelToken, sentinelRefresh
		writeJSONAnswer(w, 400, members)
	}},
	"form-encoded error": {answer: func(w http.ResponseWriter, echo []string) {
		form := url.Values{"error": {"invalid_request"}, "error_description": {strings.Join(echo, " ")}}
		for _, f := range credentialFields {
			form.Set(f, strings.Join(echo, " "))
		}
		form.Set("access_token", sentinelToken)
		form.Set("refresh_token", sentinelRefresh)
		w.WriteHeader(400)
		io.WriteString(w, form.Encode())
	}},
	"form-encoded token response": {answer: func(w http.ResponseWriter, echo []string) {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		io.WriteString(w, "access_token="+sentinelToken+"&token_type=bearer&refresh_token="+sentinelRefresh+"&message="+url.QueryEscape(strings.Join(echo, " ")))
	}},
	"plain text": {answer: func(w http.ResponseWriter, echo []string) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(502)
		for _, e := range echo {
			fmt.Fprintf(w, "upstream refused: %s\nAuthorization: %s\n", e, e)
		}
	}},
	"headers": {answer: func(w http.ResponseWriter, echo []string) {
		for i, e := range echo {
			w.Header().Set(fmt.Sprintf("X-Echo-%d", i), e)
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="zitadel", error="invalid_request", error_description="`+strings.Join(echo, " ")+`"`)
		writeJSONAnswer(w, 400, map[string]string{"error": "invalid_request"})
	}},
	"401 challenge": {answer: func(w http.ResponseWriter, echo []string) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+strings.Join(echo, " ")+`"`)
		writeJSONAnswer(w, 401, map[string]string{"error": "invalid_token", "error_description": strings.Join(echo, " ")})
	}},
	"token with error": {okJSON: true, answer: func(w http.ResponseWriter, echo []string) {
		writeJSONAnswer(w, 200, map[string]string{"error": "server_error", "access_token": sentinelToken, "refresh_token": sentinelRefresh, "error_description": strings.Join(echo, " ")})
	}},
	"unsendable token": {okJSON: true, answer: func(w http.ResponseWriter, echo []string) {
		writeJSONAnswer(w, 200, map[string]any{"access_token": sentinelToken + "\r\nX-Echo: " + strings.Join(echo, " "), "token_type": "Bearer", "expires_in": 60})
	}},
}

// echoEndpoint is a fake ZITADEL whose endpoint at target answers in style,
// echoing every credential it was sent. Its other endpoints work.
type echoEndpoint struct {
	*httptest.Server
	target string
	style  echoStyle

	mu   sync.Mutex
	seen []string // the credentials received
}

func newEchoEndpoint(t *testing.T, target string, style echoStyle) *echoEndpoint {
	e := &echoEndpoint{target: target, style: style}
	e.Server = httptest.NewServer(e)
	t.Cleanup(e.Close)
	return e
}

func (e *echoEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	echo := e.record(r)
	switch r.URL.Path {
	case e.target:
		e.style.answer(w, echo)
	case "/.well-known/openid-configuration":
		writeJSONAnswer(w, 200, map[string]string{"issuer": e.URL, "token_endpoint": e.URL + "/token",
			"userinfo_endpoint": e.URL + "/userinfo", "introspection_endpoint": e.URL + "/introspect"})
	case "/token":
		writeJSONAnswer(w, 200, map[string]any{"access_token": sentinelToken, "refresh_token": sentinelRefresh, "token_type": "Bearer", "expires_in": 3600})
	default:
		http.NotFound(w, r)
	}
}

// record keeps the credentials of r and returns what to echo: them, and
// the Authorization header as sent.
func (e *echoEndpoint) record(r *http.Request) []string {
	var creds []string
	for _, f := range credentialFields {
		if v := r.PostForm.Get(f); v != "" {
			creds = append(creds, v)
		}
	}
	auth := r.Header.Get("Authorization")
	if _, cred, ok := strings.Cut(auth, " "); ok {
		creds = append(creds, cred)
	}
	if _, password, ok := r.BasicAuth(); ok {
		creds = append(creds, password)
	}
	e.mu.Lock()
	e.seen = append(e.seen, creds...)
	e.mu.Unlock()
	if auth != "" {
		return append(creds, auth)
	}
	return creds
}

func (e *echoEndpoint) credentials() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.seen)
}

// leakFlow runs one way of using the library against e and returns the
// error it ended with and every value a program might print or encode.
type leakFlow struct {
	target string // the endpoint that misbehaves
	run    func(t *testing.T, e *echoEndpoint) ([]any, error)
}

// leakFlows returns the flows, and lines of the private keys they use.
func leakFlows(t *testing.T) (map[string]leakFlow, []string) {
	srv := serviceusertest.NewServer()
	t.Cleanup(srv.Close)
	userFile, appFile := srv.NewServiceUser().KeyFile, srv.NewApplication().KeyFile
	userKey, appKey := mustKey(t, userFile), mustKey(t, appFile)
	keyLines := append(pemLines(t, userFile), pemLines(t, appFile)...)
	jwtGrant := func(t *testing.T, e *echoEndpoint) ([]any, error) {
		cfg := serviceuser.Config{Key: userKey, Issuer: e.URL}
		ts := tokenSource(t, cfg)
		_, err := ts.Token()
		return []any{cfg, &cfg, ts, ts.LastError(), userKey, *userKey, bearer.Transport{Source: ts}}, err
	}
	return map[string]leakFlow{
		"JWT bearer grant": {"/token", jwtGrant},
		"discovery":        {"/.well-known/openid-configuration", jwtGrant},
		"client credentials": {"/token", func(t *testing.T, e *echoEndpoint) ([]any, error) {
			cfg := serviceuser.ClientCredentialsConfig{ClientID: "svc-user", ClientSecret: serviceuser.Secret(sentinelSecret), Issuer: e.URL}
			ts := tokenSourceOf(t, cfg)
			_, err := ts.Token()
			return []any{cfg, &cfg, cfg.ClientSecret, ts, ts.LastError(), &bearer.Transport{Source: ts}}, err
		}},
		"userinfo with a key's token": {"/userinfo", func(t *testing.T, e *echoEndpoint) ([]any, error) {
			cfg := serviceuser.Config{Key: userKey, Issuer: e.URL}
			ts := tokenSource(t, cfg)
			tr := &bearer.Transport{Source: ts}
			c := &http.Client{Transport: tr}
			_, err := userinfo.Fetch(context.Background(), c, e.URL+"/userinfo")
			return []any{ts, tr, *tr}, err
		}},
		"userinfo with a PAT": {"/userinfo", func(t *testing.T, e *echoEndpoint) ([]any, error) {
			cfg := serviceuser.PATConfig{PAT: serviceuser.Secret(sentinelPAT)}
			c := cfg.Client(context.Background())
			_, err := userinfo.Fetch(context.Background(), c, e.URL+"/userinfo")
			ts := cfg.TokenSource(context.Background())
			return []any{cfg, &cfg, ts, bearer.Transport{Source: ts}, c.Transport}, err
		}},
		"introspection": {"/introspect", func(t *testing.T, e *echoEndpoint) ([]any, error) {
			cfg := introspection.Config{Key: appKey, Issuer: e.URL}
			in, err := cfg.NewIntrospector(context.Background())
			require.NoError(t, err)
			_, err = in.Introspect(context.Background(), sentinelIntrospected)
			return []any{cfg, &cfg, in, appKey}, err
		}},
	}, keyLines
}

// TestSentinelsNeverLeak sends every credential the library handles to
// endpoints that echo it back in every way they can, and looks for it in
// every value a program may print, log or encode afterwards, in every form.
func TestSentinelsNeverLeak(t *testing.T) {
	flows, keyLines := leakFlows(t)
	runs := 0
	for flowName, flow := range flows {
		for styleName, style := range echoStyles {
			if style.okJSON && (flow.target == "/userinfo" || flow.target == "/introspect") {
				continue // a 200 JSON object is a valid answer there
			}
			t.Run(flowName+"/"+styleName, func(t *testing.T) {
				e := newEchoEndpoint(t, flow.target, style)
				subjects, err := flow.run(t, e)
				require.Error(t, err)
				secrets := append(e.credentials(), sentinelToken, sentinelSecret, sentinelPAT, sentinelIntrospected, sentinelRefresh)
				requireNoLeak(t, append(secrets, keyLines...), append(subjects, errorParts(err)...)...)
			})
			runs++
		}
	}
	require.Greater(t, runs, 40, "every flow meets every style it can fail with")
}

// TestConfigAndKeyFileErrorsNeverLeak: errors about the configuration or
// the key file show neither the secret nor the key.
func TestConfigAndKeyFileErrorsNeverLeak(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	userFile := srv.NewServiceUser().KeyFile
	keyLines := pemLines(t, userFile)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(userFile, &raw))
	pemKey := raw["key"].(string)
	corrupt := func(edit func(map[string]any)) []byte {
		c := maps.Clone(raw)
		edit(c)
		b, err := json.Marshal(c)
		require.NoError(t, err)
		return b
	}
	keyFiles := map[string][]byte{
		"truncated key":      corrupt(func(m map[string]any) { m["key"] = pemKey[:len(pemKey)/2] }),
		"key body altered":   corrupt(func(m map[string]any) { m["key"] = strings.Replace(pemKey, "\n", "\nAAAA", 3) }),
		"no keyId":           corrupt(func(m map[string]any) { delete(m, "keyId") }),
		"unknown type":       corrupt(func(m map[string]any) { m["type"] = "x" }),
		"bad expirationDate": corrupt(func(m map[string]any) { m["expirationDate"] = "soon" }),
		"not JSON":           []byte("key: " + pemKey),
	}
	for name, data := range keyFiles {
		t.Run(name, func(t *testing.T) {
			_, err := serviceuser.ParseKeyFile(data)
			var ke *serviceuser.KeyFileError
			require.ErrorAs(t, err, &ke)
			requireNoLeak(t, keyLines, append(errorParts(err), ke)...)
		})
	}
	key := mustKey(t, userFile)
	configs := map[string]func() ([]any, error){
		"client credentials without ClientID": func() ([]any, error) {
			cfg := serviceuser.ClientCredentialsConfig{ClientSecret: serviceuser.Secret(sentinelSecret), Issuer: srv.Issuer()}
			_, err := tokenSourceOf(t, cfg).Token()
			return []any{cfg, cfg.Validate()}, err
		},
		"client credentials over plain http": func() ([]any, error) {
			cfg := serviceuser.ClientCredentialsConfig{ClientID: "svc", ClientSecret: serviceuser.Secret(sentinelSecret), Issuer: "http://zitadel.example.com"}
			_, err := tokenSourceOf(t, cfg).Token()
			return []any{cfg}, err
		},
		"PAT expired": func() ([]any, error) {
			cfg := serviceuser.PATConfig{PAT: serviceuser.Secret(sentinelPAT), Expiry: time.Unix(1, 0)}
			_, err := cfg.TokenSource(context.Background()).Token()
			return []any{cfg, cfg.TokenSource(context.Background())}, err
		},
		"introspection with a user key": func() ([]any, error) {
			cfg := introspection.Config{Key: key, Issuer: srv.Issuer()}
			_, err := cfg.NewIntrospector(context.Background())
			return []any{cfg}, err
		},
		"Address with a password": func() ([]any, error) {
			cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer(), Route: serviceuser.Route{Address: "https://svc:" + sentinelSecret + "@zitadel.internal"}}
			_, err := tokenSource(t, cfg).Token()
			return []any{cfg.Validate()}, err
		},
		"Address with a token as user": func() ([]any, error) {
			cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer(), Route: serviceuser.Route{Address: "http://" + sentinelSecret + "@zitadel.internal:8080"}}
			return nil, cfg.Validate()
		},
		"plain http Issuer with a password": func() ([]any, error) {
			cfg := serviceuser.ClientCredentialsConfig{ClientID: "svc", ClientSecret: serviceuser.Secret("s"), Issuer: "http://svc:" + sentinelSecret + "@zitadel.example.com"}
			return nil, cfg.Validate()
		},
		"https Issuer with a password": func() ([]any, error) {
			cfg := serviceuser.Config{Key: key, Issuer: "https://svc:" + sentinelSecret + "@zitadel.example.com"}
			_, err := tokenSource(t, cfg).Token()
			return []any{cfg.Validate()}, err
		},
		"TokenURL with a password, not a URL": func() ([]any, error) {
			cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer(), TokenURL: "ftp://svc:" + sentinelSecret + "@zitadel.example.com/token"}
			return nil, cfg.Validate()
		},
		"key with bad scopes": func() ([]any, error) {
			cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer(), Scopes: []string{"a b"}}
			_, err := tokenSource(t, cfg).Token()
			return []any{cfg, key}, err
		},
	}
	for name, run := range configs {
		t.Run(name, func(t *testing.T) {
			subjects, err := run()
			require.Error(t, err)
			requireNoLeak(t, append(keyLines, sentinelSecret, sentinelPAT), append(subjects, errorParts(err)...)...)
		})
	}
}

// pemLines returns some lines of the private key in a key file.
func pemLines(t *testing.T, keyFile []byte) []string {
	var kf struct{ Key string }
	require.NoError(t, json.Unmarshal(keyFile, &kf))
	lines := strings.Split(strings.TrimSpace(kf.Key), "\n")
	require.Greater(t, len(lines), 6)
	body := lines[1 : len(lines)-2] // the last body line may be short
	return []string{body[0], body[len(body)/2], body[len(body)-1]}
}

// errorParts returns err and every error inside it a program may reach with
// errors.As and print.
func errorParts(err error) []any {
	parts := []any{err}
	var te *serviceuser.TokenError
	if errors.As(err, &te) {
		parts = append(parts, te, *te)
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		parts = append(parts, re, string(re.Body), re.Response)
	}
	var de *serviceuser.DiscoveryError
	if errors.As(err, &de) {
		parts = append(parts, de)
	}
	var ce *serviceuser.ConfigError
	if errors.As(err, &ce) {
		parts = append(parts, ce)
	}
	return parts
}

// renderers print or encode a value every way a program might.
var renderers = map[string]func(v any) ([]byte, error){
	"json": json.Marshal,
	"xml":  xml.Marshal,
	"yaml": yaml.Marshal,
	"gob": func(v any) ([]byte, error) {
		var b bytes.Buffer
		err := gob.NewEncoder(&b).Encode(v)
		return b.Bytes(), err
	},
	"slog text": func(v any) ([]byte, error) {
		var b bytes.Buffer
		slog.New(slog.NewTextHandler(&b, nil)).Error("failed", "v", v)
		return b.Bytes(), nil
	},
	"slog JSON": func(v any) ([]byte, error) {
		var b bytes.Buffer
		slog.New(slog.NewJSONHandler(&b, nil)).Error("failed", "v", v)
		return b.Bytes(), nil
	},
}

func init() {
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "% x", "%#q", "%T"} {
		renderers["fmt "+verb] = func(v any) ([]byte, error) { return []byte(fmt.Sprintf(verb, v)), nil }
	}
}

// render runs one renderer; an error is no leak, a panic is a failure.
func render(t *testing.T, name string, r func(any) ([]byte, error), v any) (out []byte) {
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s of %T panics: %v", name, v, p)
		}
	}()
	out, _ = r(v)
	return out
}

// requireNoLeak renders every subject with every renderer and fails if any
// secret shows, in any of the forms the renderers use.
func requireNoLeak(t *testing.T, secrets []string, subjects ...any) {
	t.Helper()
	var forms []string
	for _, s := range secrets {
		forms = append(forms, encodedForms(s)...)
	}
	for _, v := range subjects {
		for name, r := range renderers {
			out := string(render(t, name, r, v))
			for _, f := range forms {
				if i := strings.Index(out, f); i >= 0 {
					t.Fatalf("%s of %T shows a secret (as %q) in …%s…", name, v, f, out[max(i-200, 0):min(i+len(f)+50, len(out))])
				}
			}
		}
	}
}

// encodedForms are the ways a printer or an encoder may write s: as is,
// in hex, as byte lists, and in base64 at each alignment.
func encodedForms(s string) []string {
	b := []byte(s)
	forms := []string{s, hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)), fmt.Sprintf("% x", b),
		strings.Trim(fmt.Sprint(b), "[]"), strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%#v", b), "[]byte{"), "}")}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for k := range 3 {
			e := enc.EncodeToString(append(make([]byte, k), b...))
			start, end := (k+2)/3*4, (k+len(b))/3*4
			forms = append(forms, e[start:end])
		}
	}
	return forms
}

// TestUnsendableTokenRefused: a token an Authorization header cannot carry
// is refused when it arrives, not cached to fail every API call.
func TestUnsendableTokenRefused(t *testing.T) {
	srv, _, cfg := setup(t, serviceusertest.KeyRSA)
	srv.FailNext(1, serviceusertest.Fault{Status: 200, Body: `{"access_token":"` + sentinelToken + `\r\nX-Injected: 1","token_type":"Bearer","expires_in":3600}`})
	ts := tokenSource(t, cfg)
	tok, err := ts.Token()
	assert.Nil(t, tok)
	var te *serviceuser.TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 200, te.StatusCode)
	assert.Contains(t, te.Description, "b64token")
	assert.NotContains(t, printed(err), sentinelToken)
}

func TestUserinfoErrorRedactsTokenWithoutRecordedRequest(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"error":"access_denied","error_description":"no access for %s"}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	})
	for name, src := range map[string]oauth2.TokenSource{
		"static": oauth2.StaticTokenSource(&oauth2.Token{AccessToken: sentinelToken}),
		"PAT":    serviceuser.PATConfig{PAT: serviceuser.Secret(sentinelToken)}.TokenSource(context.Background()),
	} {
		t.Run(name, func(t *testing.T) {
			c := &http.Client{Transport: &bearer.Transport{Source: src, Base: handlerTransport{echo}}}
			_, err := userinfo.Fetch(context.Background(), c, "https://zitadel.example.com/oidc/v1/userinfo")
			var re *oauth2.RetrieveError
			require.ErrorAs(t, err, &re)
			assert.NotContains(t, printed(err)+string(re.Body), sentinelToken)
		})
	}
}
