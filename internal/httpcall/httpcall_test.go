package httpcall

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestDefaultTransportReplaced: when another package has put a RoundTripper
// of its own into http.DefaultTransport, the library's transport is a fresh
// one with the standard settings instead of a panic.
func TestDefaultTransportReplaced(t *testing.T) {
	std := http.DefaultTransport.(*http.Transport)
	t.Cleanup(func() { http.DefaultTransport = std })
	http.DefaultTransport = roundTripperFunc(func(*http.Request) (*http.Response, error) { return nil, nil })

	got := copyDefaultTransport()
	require.NotNil(t, got)
	assert.NotNil(t, got.Proxy, "proxy from the environment")
	assert.NotNil(t, got.DialContext)
	assert.Equal(t, std.ForceAttemptHTTP2, got.ForceAttemptHTTP2)
	assert.Equal(t, std.MaxIdleConns, got.MaxIdleConns)
	assert.Equal(t, std.IdleConnTimeout, got.IdleConnTimeout)
	assert.Equal(t, std.TLSHandshakeTimeout, got.TLSHandshakeTimeout)
	assert.Equal(t, std.ExpectContinueTimeout, got.ExpectContinueTimeout)
}
