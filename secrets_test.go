package serviceuser_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

const sentinelToken = "SENTINEL-ACCESS-TOKEN-7f3a9c"

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
	c := &http.Client{Transport: &serviceuser.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: sentinelToken})}}
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
