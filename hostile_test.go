package serviceuser_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// TestHostileTokenResponses sends each broken answer through the whole client
// path: each gives the expected error (or the documented fallback), never a
// panic or a hang.
func TestHostileTokenResponses(t *testing.T) {
	header := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	type want struct {
		status      int
		code, words string
	}
	cases := map[string]struct {
		fault serviceusertest.Fault
		want  want
	}{
		"HTML error page":       {serviceusertest.Fault{Status: 502, Body: "<html><h1>Bad Gateway</h1></html>"}, want{502, "", "Bad Gateway"}},
		"HTML on 200":           {serviceusertest.Fault{Status: 200, Body: "<html>sign in</html>"}, want{200, "", "not a JSON object"}},
		"truncated JSON":        {serviceusertest.Fault{Status: 200, Body: `{"access_token":"x","exp`}, want{200, "", "not a JSON object"}},
		"10 MiB body":           {serviceusertest.Fault{Status: 200, Body: `{"access_token":"` + strings.Repeat("a", 10<<20) + `"}`}, want{200, "", "larger than"}},
		"missing access_token":  {serviceusertest.Fault{Status: 200, Body: `{"token_type":"Bearer","expires_in":60}`}, want{200, "", "no access_token"}},
		"token_type not Bearer": {serviceusertest.Fault{Status: 200, Body: `{"access_token":"x","token_type":"N_A"}`}, want{200, "", "not Bearer"}},
		"expires_in negative":   {serviceusertest.Fault{Status: 200, Body: `{"access_token":"x","expires_in":-60}`}, want{200, "", "negative"}},
		"expires_in string":     {serviceusertest.Fault{Status: 200, Body: `{"access_token":"x","expires_in":"never"}`}, want{200, "", "not a number"}},
		"error on 200":          {serviceusertest.Fault{Status: 200, Body: `{"error":"invalid_grant","error_description":"key revoked"}`}, want{200, "invalid_grant", "key revoked"}},
		"Errors.Internal":       {serviceusertest.Fault{Status: 500}, want{500, "server_error", "clock"}},
		"429 with Retry-After":  {serviceusertest.Fault{Status: 429, NoBody: true, Header: header("Retry-After", "30")}, want{429, "", "Too Many Requests"}},
		"503 empty":             {serviceusertest.Fault{Status: 503, NoBody: true}, want{503, "", "Service Unavailable"}},
		"redirect":              {serviceusertest.Fault{Status: 302, NoBody: true, Header: header("Location", "/oauth/v2/token")}, want{302, "", "Found"}},
		"404":                   {serviceusertest.Fault{Status: 404, Body: "404 page not found"}, want{404, "", "wrong URL"}},
		"JSON null":             {serviceusertest.Fault{Status: 200, Body: `null`}, want{200, "", "no access_token"}},
		"access_token object":   {serviceusertest.Fault{Status: 200, Body: `{"access_token":{"v":1}}`}, want{200, "", "not a JSON object"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv, _, cfg := setup(t, serviceusertest.KeyRSA)
			cfg.TokenURL = srv.TokenURL()
			srv.FailNext(1, tc.fault)
			_, err := cfg.Token(context.Background()) // one answer (a source would retry a 5xx within the wait)
			var te *serviceuser.TokenError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tc.want.status, te.StatusCode)
			assert.Equal(t, tc.want.code, te.Code)
			assert.Contains(t, err.Error(), tc.want.words)
			var re *oauth2.RetrieveError
			assert.ErrorAs(t, err, &re)
			assert.Less(t, len(err.Error()), 4<<10, "error text is bounded")
			assert.Equal(t, 1, srv.TokenRequests(), "redirects are not followed")
		})
	}
}

func TestHostileFallbacks(t *testing.T) {
	srv, _, cfg := setup(t, serviceusertest.KeyRSA)
	cfg.TokenURL = srv.TokenURL()
	srv.FailNext(1, serviceusertest.Fault{Status: 200, Body: `{"access_token":"x"}`})
	before := time.Now()
	tok, err := tokenSource(t, cfg).Token()
	require.NoError(t, err)
	assert.Equal(t, "Bearer", tok.TokenType, "absent token_type means Bearer")
	const fallback = 15 * time.Minute // TokenSource's documented lifetime of a token without expires_in
	assert.WithinRange(t, tok.Expiry, before.Add(fallback), time.Now().Add(fallback))

	srv.FailNext(1, serviceusertest.Fault{Status: 200, Body: `{"access_token":"y","expires_in":99999999999}`})
	tok, err = tokenSource(t, cfg).Token()
	require.NoError(t, err)
	assert.Less(t, time.Until(tok.Expiry), 8*24*time.Hour, "a huge expires_in is capped")
}

func TestDeadAndHungEndpoints(t *testing.T) {
	cases := map[string]serviceusertest.Fault{
		"hang":             {Hang: true},
		"connection reset": {CloseConn: true},
	}
	for name, fault := range cases {
		t.Run(name, func(t *testing.T) {
			srv, _, cfg := setup(t, serviceusertest.KeyRSA)
			cfg.TokenURL = srv.TokenURL()
			cfg.Timeout = 200 * time.Millisecond
			srv.FailNext(10, fault) // quick retries within the wait meet it too
			_, err := tokenSource(t, cfg).Token()
			var te *serviceuser.TokenError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, 0, te.StatusCode)
			assert.False(t, te.Permanent())
		})
	}
}

// TestHungEndpointCallerReturnsAtOnce: a caller's own context ends its wait
// while the shared refresh goes on, and Close ends that refresh.
func TestHungEndpointCallerReturnsAtOnce(t *testing.T) {
	srv, _, cfg := setup(t, serviceusertest.KeyRSA)
	cfg.TokenURL = srv.TokenURL()
	srv.FailNext(1, serviceusertest.Fault{Hang: true})
	ts := cfg.TokenSource(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := ts.TokenContext(ctx)
		done <- err
	}()
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	ts.Close()
	_, err := ts.Token()
	assert.True(t, errors.Is(err, serviceuser.ErrClosed), "got %v", err)
}
