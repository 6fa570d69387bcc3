package serviceuser

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/cache"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/bearer"
)

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// TestRedirectWithinIssuerOriginKeepsToken: an API request through Client
// that ZITADEL redirects within the issuer's origin (to the issuer's URL, or
// to a path) carries the token again, with Address as without it; one
// redirected to another origin does not. With Address, the request that
// reaches the server is the one rewritten to the address (and a transport
// reports that one as the response's Request): the redirect must still be
// judged against the origin the caller asked for.
func TestRedirectWithinIssuerOriginKeepsToken(t *testing.T) {
	const public = "https://auth.example.com"
	var mu sync.Mutex
	var reached []string // hosts that /echo requests reached
	zitadel := func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q}`, public, public+"/oauth/v2/token")
		case "/oauth/v2/token":
			zitadelAnswer(w, http.StatusOK, "", "")
		case "/absolute":
			http.Redirect(w, r, public+"/echo", http.StatusFound)
		case "/relative":
			http.Redirect(w, r, "/echo", http.StatusTemporaryRedirect)
		case "/away":
			http.Redirect(w, r, "https://elsewhere.example/echo", http.StatusFound)
		case "/echo":
			mu.Lock()
			reached = append(reached, r.URL.Host)
			mu.Unlock()
			io.WriteString(w, r.Header.Get("Authorization"))
		}
	}
	for name, address := range map[string]string{"without Address": "", "with Address": "https://zitadel.internal:8443"} {
		t.Run(name, func(t *testing.T) {
			reached = nil
			cfg := Config{Key: testKeyFile(t), Issuer: public, Route: Route{Address: address}, HTTPClient: newInProcess(http.HandlerFunc(zitadel)).client()}
			ts := cfg.TokenSource(context.Background())
			defer ts.Close()
			c := ts.Client()
			assert.Equal(t, "Bearer at", get(t, c, public+"/absolute"), "redirect to the issuer's URL")
			assert.Equal(t, "Bearer at", get(t, c, public+"/relative"), "redirect to a path")
			assert.Equal(t, "", get(t, c, public+"/away"), "redirect to another origin")
			want := strings.TrimPrefix(cmp.Or(address, public), "https://")
			assert.Equal(t, []string{want, want, "elsewhere.example"}, reached, "the redirected requests take the route")
		})
	}
}

func TestTransportUsesRequestContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, f := newScripted(t, 0)
		f.Gate = make(chan struct{}) // the token never comes
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:1/", nil)
		_, err := (&bearer.Transport{Source: ts}).RoundTrip(req)
		assert.ErrorIs(t, err, context.Canceled)
		close(f.Gate)
	})
}

// rejectFirstToken answers 401 invalid_token to "token-1", else echoes the
// token and the request body.
func rejectFirstToken(hits *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") == "Bearer token-1" {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, r.Header.Get("Authorization")+" "+string(body))
	})
}

// apiURL is the API the in-process rejectFirstToken answers for.
const apiURL = "https://api.example/"

func TestTransportRetriesOnceAfter401(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var hits atomic.Int32
		api := newInProcess(rejectFirstToken(&hits))
		ts, f := newScripted(t, time.Hour)
		_, err := ts.Token()
		require.NoError(t, err)
		time.Sleep(cache.MinInvalidateAge) // token-1 is old enough to be dropped
		client := &http.Client{Transport: &bearer.Transport{Source: ts, Base: api}}

		const callers = 50
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				resp, err := client.Post(apiURL, "text/plain", strings.NewReader("payload"))
				if !assert.NoError(t, err) {
					return
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, "Bearer token-2 payload", string(body), "body replayed with the new token")
			})
		}
		wg.Wait()
		assert.EqualValues(t, 2, f.Calls.Load(), "%d concurrent 401s cause one refresh", callers)
	})
}

func TestTransportDoesNotRetryUnreplayableBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var hits atomic.Int32
		api := newInProcess(rejectFirstToken(&hits))
		ts, f := newScripted(t, time.Hour)
		req, _ := http.NewRequest(http.MethodPost, apiURL, io.NopCloser(strings.NewReader("once")))
		resp, err := (&bearer.Transport{Source: ts, Base: api}).RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.EqualValues(t, 1, hits.Load())
		assert.EqualValues(t, 1, f.Calls.Load())
	})
}

// TestTransportDropsRejectedTokenOfUnreplayableRequest: a 401 on a request
// that cannot be sent again still drops the token, so the next request gets
// a new one rather than the revoked one until it expires.
func TestTransportDropsRejectedTokenOfUnreplayableRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var hits atomic.Int32
		api := newInProcess(rejectFirstToken(&hits))
		ts, f := newScripted(t, 12*time.Hour)
		_, err := ts.Token()
		require.NoError(t, err)
		time.Sleep(cache.MinInvalidateAge) // token-1 is old enough to be dropped
		client := &http.Client{Transport: &bearer.Transport{Source: ts, Base: api}}

		req, _ := http.NewRequest(http.MethodPost, apiURL, io.NopCloser(strings.NewReader("streamed")))
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a streamed body is not sent twice")
		assert.EqualValues(t, 1, hits.Load())

		req, _ = http.NewRequest(http.MethodPost, apiURL, io.NopCloser(strings.NewReader("next")))
		resp, err = client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		assert.Equal(t, "Bearer token-2 next", string(body))
		assert.EqualValues(t, 2, hits.Load())
		assert.EqualValues(t, 2, f.Calls.Load())
	})
}
