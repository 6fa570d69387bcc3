package serviceuser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/bearer"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
)

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
