package serviceuser_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/bearer"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
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
