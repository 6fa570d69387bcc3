package serviceuser

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultTransportReplaced: when another package has put a RoundTripper
// of its own into http.DefaultTransport, the library's transport is a fresh
// one with the standard settings instead of a panic.
func TestDefaultTransportReplaced(t *testing.T) {
	std := http.DefaultTransport.(*http.Transport)
	t.Cleanup(func() { http.DefaultTransport = std })
	http.DefaultTransport = newInProcess(http.NotFoundHandler())

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
