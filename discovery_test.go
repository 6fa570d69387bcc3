package serviceuser

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	counter := &pathCounter{counts: map[string]int{}}
	_, clock, ts := fakeClockSource(t, counter)

	first, err := ts.Token()
	require.NoError(t, err)
	clock.Advance(13 * time.Hour)
	second, err := ts.Token()
	require.NoError(t, err)

	assert.NotEqual(t, first.AccessToken, second.AccessToken)
	assert.Equal(t, 1, counter.count("/.well-known/openid-configuration"))
	assert.Equal(t, 2, counter.count("/oauth/v2/token"))
}
