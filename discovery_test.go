package serviceuser

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/cache"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/internal/route"
)

// pathCounter counts the requests a client sends through base, by path.
type pathCounter struct {
	base   http.RoundTripper
	mu     sync.Mutex
	counts map[string]int
}

func (p *pathCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	p.mu.Lock()
	p.counts[r.URL.Path]++
	p.mu.Unlock()
	return p.base.RoundTrip(r)
}

func (p *pathCounter) count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[path]
}

func TestDiscoveryFetchedOnceAcrossRefreshes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		counter := &pathCounter{counts: map[string]int{}}
		_, ts := fakeSource(t, func(base http.RoundTripper) http.RoundTripper {
			counter.base = base
			return counter
		})

		first, err := ts.Token()
		require.NoError(t, err)
		time.Sleep(time.Minute)
		ts.Invalidate(first) // the next call makes a second token request
		second, err := ts.Token()
		require.NoError(t, err)

		assert.NotEqual(t, first.AccessToken, second.AccessToken)
		assert.Equal(t, 1, counter.count("/.well-known/openid-configuration"))
		assert.Equal(t, 2, counter.count("/oauth/v2/token"))
	})
}

// fakeIssuer is the issuer the in-process fake below answers for.
const fakeIssuer = "https://zitadel.example"

// discoveryDoc is a discovery document for fakeIssuer, with the members in
// extra overriding the defaults (nil deletes a member).
func discoveryDoc(extra map[string]any) []byte {
	doc := map[string]any{
		"issuer":                 fakeIssuer,
		"token_endpoint":         fakeIssuer + "/oauth/v2/token",
		"introspection_endpoint": fakeIssuer + "/oauth/v2/introspect",
		"userinfo_endpoint":      fakeIssuer + "/oidc/v1/userinfo",
		"revocation_endpoint":    fakeIssuer + "/oauth/v2/revoke",
		"jwks_uri":               fakeIssuer + "/oauth/v2/keys",
	}
	for k, v := range extra {
		if v == nil {
			delete(doc, k)
		} else {
			doc[k] = v
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

const discoveryPath = "/.well-known/openid-configuration"

// fakeZitadel answers discovery with each of docs in turn (the last one
// again once they run out), and the token endpoint with a token.
func fakeZitadel(docs ...func(w http.ResponseWriter)) http.Handler {
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc(discoveryPath, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		doc := docs[0]
		if len(docs) > 1 {
			docs = docs[1:]
		}
		mu.Unlock()
		doc(w)
	})
	mux.HandleFunc("/oauth/v2/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"fresh-token","token_type":"Bearer","expires_in":3600}`)
	})
	return mux
}

// serveDoc answers with a discovery document.
func serveDoc(extra map[string]any) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(discoveryDoc(extra))
	}
}

// serveStatus answers with status and a plain text body.
func serveStatus(status int, header ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		io.WriteString(w, "unable to set instance using origin")
	}
}

// fetchDiscovery fetches fakeIssuer's discovery document with client, as a
// token source does, and returns its error.
func fetchDiscovery(client *http.Client) error {
	r, p := route.Parse(fakeIssuer, route.Spec{}, false)
	if p != nil {
		panic(p.Text)
	}
	_, err := discover(r.Caller(client, 0), r.Issuer(), nil)(context.Background())
	return err
}

func TestDiscoveredEndpointsMustBeSecure(t *testing.T) {
	for _, member := range []string{"token_endpoint", "introspection_endpoint", "userinfo_endpoint"} {
		t.Run(member, func(t *testing.T) {
			rt := newInProcess(fakeZitadel(serveDoc(map[string]any{member: "http://example.com/leak"})))
			err := fetchDiscovery(rt.client())
			var de *DiscoveryError
			require.ErrorAs(t, err, &de)
			assert.ErrorContains(t, err, member)
			assert.ErrorContains(t, err, "plain http")

			// Neither the assertion nor the caller's token ever goes there.
			cfg := Config{Key: testKeyFile(t), Issuer: fakeIssuer, HTTPClient: rt.client()}
			ts := cfg.TokenSource(context.Background())
			defer ts.Close()
			_, err = ts.Token()
			require.ErrorAs(t, err, &de)
			assert.ErrorContains(t, err, member)
			assert.Zero(t, rt.hostHits("example.com"), "nothing sent in clear")
		})
	}
}

func TestDiscoveryRefusesUnusableTokenEndpoint(t *testing.T) {
	for name, value := range map[string]any{
		"missing":      nil,
		"relative":     "/oauth/v2/token",
		"not a string": 7,
		"ftp":          "ftp://zitadel.example/token",
	} {
		rt := newInProcess(fakeZitadel(serveDoc(map[string]any{"token_endpoint": value})))
		err := fetchDiscovery(rt.client())
		var de *DiscoveryError
		require.ErrorAs(t, err, &de, name)
		assert.False(t, de.Permanent(), name)
	}
}

func TestDiscoveryOnlyAnotherIssuerIsPermanent(t *testing.T) {
	for name, tc := range map[string]struct {
		answer    func(w http.ResponseWriter)
		permanent bool
	}{
		"redirect":              {serveStatus(http.StatusFound, "Location", "https://elsewhere.example/"), false},
		"ingress not ready":     {serveStatus(http.StatusNotFound), false},
		"HTML on 200":           {serveStatus(http.StatusOK), false},
		"unauthorized":          {serveStatus(http.StatusUnauthorized), false},
		"bad gateway":           {serveStatus(http.StatusBadGateway), false},
		"insecure token URL":    {serveDoc(map[string]any{"token_endpoint": "http://example.com/token"}), false},
		"another issuer":        {serveDoc(map[string]any{"issuer": "https://other.example"}), true},
		"issuer with a slash":   {serveDoc(map[string]any{"issuer": fakeIssuer + "/"}), true},
		"issuer not a string":   {serveDoc(map[string]any{"issuer": 7}), false},
		"no issuer in document": {serveDoc(map[string]any{"issuer": nil}), false},
	} {
		err := fetchDiscovery(newInProcess(fakeZitadel(tc.answer)).client())
		var de *DiscoveryError
		require.ErrorAs(t, err, &de, name)
		assert.Equal(t, tc.permanent, de.Permanent(), "%s: %v", name, err)
		assert.Equal(t, tc.permanent, de.OtherIssuer != "", "%s: OtherIssuer %q", name, de.OtherIssuer)
	}
}

// TestDiscoveryRetriedAfterTransientFailure: an ingress that is not ready yet,
// then a document with an unusable token endpoint, then a good document.
// Each failure waits a short backoff, and nothing bad is kept.
func TestDiscoveryRetriedAfterTransientFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newInProcess(fakeZitadel(
			serveStatus(http.StatusNotFound),
			serveDoc(map[string]any{"token_endpoint": "http://example.com/token"}),
			serveDoc(nil),
		))
		ts := Config{Key: testKeyFile(t), Issuer: fakeIssuer, HTTPClient: rt.client()}.TokenSource(context.Background())
		defer ts.Close()

		_, err := ts.Token()
		assert.ErrorContains(t, err, "HTTP 404")
		time.Sleep(cache.BackoffBase)
		_, err = ts.Token()
		assert.ErrorContains(t, err, "plain http")
		time.Sleep(2 * cache.BackoffBase)
		tok, err := ts.Token()
		require.NoError(t, err)
		assert.Equal(t, "fresh-token", tok.AccessToken)
		assert.Equal(t, 3, rt.count("zitadel.example"+discoveryPath))
		assert.Equal(t, 1, rt.count("zitadel.example/oauth/v2/token"))
		assert.Zero(t, rt.hostHits("example.com"))
	})
}
