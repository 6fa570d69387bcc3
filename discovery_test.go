package serviceuser

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// pathCounter counts the requests a client sends, by path.
type pathCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (p *pathCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	p.mu.Lock()
	p.counts[r.URL.Path]++
	p.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (p *pathCounter) count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[path]
}

func TestDiscoveryFetchedOnceAcrossRefreshes(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	clock := newFakeClock()
	srv.SetNow(clock.Now)
	key, err := ParseKeyFile(srv.NewServiceUser().KeyFile)
	require.NoError(t, err)
	counter := &pathCounter{counts: map[string]int{}}
	cfg := Config{Key: key, Issuer: srv.Issuer(), HTTPClient: &http.Client{Transport: counter}, now: clock.Now}
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()

	first, err := ts.Token()
	require.NoError(t, err)
	clock.Advance(13 * time.Hour)
	second, err := ts.Token()
	require.NoError(t, err)

	assert.NotEqual(t, first.AccessToken, second.AccessToken)
	assert.Equal(t, 1, counter.count("/.well-known/openid-configuration"))
	assert.Equal(t, 2, counter.count("/oauth/v2/token"))
}

// gatedTransport holds token requests until gate is closed, and reports
// each one on entered.
type gatedTransport struct {
	gate, entered chan struct{}
}

func (g *gatedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/oauth/v2/token" {
		g.entered <- struct{}{}
		<-g.gate
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestRefreshAheadAgainstSlowServer: while the server holds the refresh,
// every caller gets the current token at once; afterwards, the new one.
func TestRefreshAheadAgainstSlowServer(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	clock := newFakeClock()
	srv.SetNow(clock.Now)
	key, err := ParseKeyFile(srv.NewServiceUser().KeyFile)
	require.NoError(t, err)
	gated := &gatedTransport{gate: make(chan struct{}), entered: make(chan struct{}, 2)}
	close(gated.gate) // the first token comes at once
	cfg := Config{Key: key, Issuer: srv.Issuer(), HTTPClient: &http.Client{Transport: gated}, now: clock.Now}
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()
	first, err := ts.Token()
	require.NoError(t, err)
	<-gated.entered

	gated.gate = make(chan struct{}) // the server is now slow to answer
	clock.Advance(staleWindow(serviceusertest.DefaultTokenLifetime))
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			tok, err := ts.Token()
			assert.NoError(t, err)
			assert.Same(t, first, tok)
		})
	}
	<-gated.entered // the refresh is held inside the token request...
	wg.Wait()       // ...and all 100 callers have their token
	assert.Equal(t, 1, srv.IssuedTokens())

	close(gated.gate)
	ts.wg.Wait()
	second, err := ts.Token()
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, second.AccessToken)
	assert.Equal(t, 2, srv.TokenRequests())
}
