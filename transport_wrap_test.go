package serviceuser_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/bearer"
)

// tokenOnly wraps a source without forwarding TokenContext or Invalidate: a
// bearer.Transport around it has neither capability.
type tokenOnly struct{ oauth2.TokenSource }

// forwarding wraps a source and forwards both capabilities.
type forwarding struct{ source *serviceuser.TokenSource }

// A *TokenSource has both capabilities, and so has a wrapper that forwards
// them.
var (
	_ bearer.ContextTokenSource = (*serviceuser.TokenSource)(nil)
	_ bearer.Invalidator        = (*serviceuser.TokenSource)(nil)
	_ bearer.ContextTokenSource = forwarding{}
	_ bearer.Invalidator        = forwarding{}
)

func (f forwarding) Token() (*oauth2.Token, error) { return f.source.Token() }
func (f forwarding) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	return f.source.TokenContext(ctx)
}
func (f forwarding) Invalidate(tok *oauth2.Token) { f.source.Invalidate(tok) }

// wrapping is a decorator around a *TokenSource, and whether it forwards
// bearer.Transport's capabilities.
type wrapping struct {
	name     string
	wrap     func(*serviceuser.TokenSource) oauth2.TokenSource
	forwards bool
}

var wrappings = []wrapping{
	{"forwarding", func(ts *serviceuser.TokenSource) oauth2.TokenSource { return forwarding{ts} }, true},
	{"not forwarding", func(ts *serviceuser.TokenSource) oauth2.TokenSource { return tokenOnly{ts} }, false},
}

// heldTokenEndpoint is an in-process token endpoint, usable in a synctest
// bubble: it answers "token-N" to the Nth request, after hold is closed when
// hold is set.
type heldTokenEndpoint struct {
	hold     chan struct{}
	requests atomic.Int32
}

func (e *heldTokenEndpoint) RoundTrip(r *http.Request) (*http.Response, error) {
	r.Body.Close()
	n := e.requests.Add(1)
	if e.hold != nil {
		select {
		case <-e.hold:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	body := fmt.Sprintf(`{"access_token":"token-%d","token_type":"Bearer","expires_in":43199}`, n)
	return textResponse(r, http.StatusOK, body), nil
}

// refusingAPI answers 401 invalid_token to requests carrying the refused
// token, 200 to others, and the request context's error once it has ended.
type refusingAPI struct{ refused string }

func (a refusingAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	if r.Header.Get("Authorization") == "Bearer "+a.refused {
		resp := textResponse(r, http.StatusUnauthorized, "")
		resp.Header.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		return resp, nil
	}
	return textResponse(r, http.StatusOK, "ok"), nil
}

func textResponse(r *http.Request, status int, body string) *http.Response {
	return &http.Response{
		StatusCode: status,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    r,
	}
}

// wrapTestSource returns a token source whose token requests go to ep.
func wrapTestSource(t *testing.T, key *serviceuser.KeyFile, ep *heldTokenEndpoint) *serviceuser.TokenSource {
	cfg := serviceuser.Config{
		Key:        key,
		Issuer:     "https://zitadel.test",
		TokenURL:   "https://zitadel.test/oauth/v2/token",
		HTTPClient: &http.Client{Transport: ep},
	}
	require.NoError(t, cfg.Validate())
	return cfg.TokenSource(context.Background())
}

func wrapTestKey(t *testing.T) *serviceuser.KeyFile {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	key, err := serviceuser.NewSignerKey(priv, serviceuser.KeyFile{KeyID: "key-1", UserID: "user-1"})
	require.NoError(t, err)
	return key
}

// A request whose context ends while the token endpoint hangs returns at once
// through a decorator that forwards ContextTokenSource, and only when the
// token arrives through one that does not.
func TestWrappedSourceContextBoundsWait(t *testing.T) {
	key := wrapTestKey(t)
	for _, w := range wrappings {
		t.Run(w.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ep := &heldTokenEndpoint{hold: make(chan struct{})}
				ts := wrapTestSource(t, key, ep)
				defer ts.Close()
				client := &http.Client{Transport: &bearer.Transport{Source: w.wrap(ts), Base: refusingAPI{}}}
				ctx, cancel := context.WithCancel(context.Background())
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.test/", nil)
				require.NoError(t, err)

				done := make(chan error, 1)
				go func() {
					resp, err := client.Do(req)
					if err == nil {
						resp.Body.Close()
					}
					done <- err
				}()
				synctest.Wait() // the request waits for the token endpoint
				cancel()
				synctest.Wait()
				select {
				case err := <-done:
					require.True(t, w.forwards, "returned before the token endpoint answered")
					require.ErrorIs(t, err, context.Canceled)
				default:
					require.False(t, w.forwards, "still waiting for a token after the request's context ended")
					close(ep.hold)
					require.ErrorIs(t, <-done, context.Canceled) // from the API, once the token came
				}
				require.EqualValues(t, 1, ep.requests.Load())
			})
		})
	}
}

// A 401 for a token older than the 10 s a token is kept against Invalidate
// drops it and replays the request with a new one through a decorator that
// forwards Invalidator; through one that does not, the refused token stays.
func TestWrappedSourceInvalidatesOn401(t *testing.T) {
	key := wrapTestKey(t)
	for _, w := range wrappings {
		t.Run(w.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ep := &heldTokenEndpoint{}
				ts := wrapTestSource(t, key, ep)
				defer ts.Close()
				refused, err := ts.Token()
				require.NoError(t, err)
				time.Sleep(11 * time.Second)

				client := &http.Client{Transport: &bearer.Transport{Source: w.wrap(ts), Base: refusingAPI{refused: refused.AccessToken}}}
				for range 2 {
					resp, err := client.Get("https://api.test/")
					require.NoError(t, err)
					resp.Body.Close()
					if w.forwards {
						require.Equal(t, http.StatusOK, resp.StatusCode)
					} else {
						require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
					}
				}
				current, err := ts.Token()
				require.NoError(t, err)
				if w.forwards {
					require.EqualValues(t, 2, ep.requests.Load())
					require.NotEqual(t, refused.AccessToken, current.AccessToken)
				} else {
					require.EqualValues(t, 1, ep.requests.Load())
					require.Equal(t, refused.AccessToken, current.AccessToken)
				}
			})
		})
	}
}
