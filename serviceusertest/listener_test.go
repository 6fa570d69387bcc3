package serviceusertest

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithListenerServesOnTheCallersListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := NewServer(WithListener(l))
	addr := l.Addr().String()
	assert.Equal(t, "http://"+addr, s.Issuer())
	assert.Equal(t, addr, s.ListenerHost())

	// A plain client, not the server's own, reaches it at that address.
	u := s.NewServiceUser()
	tok := requireIssued(t, grant(t, s, signAs(t, u, claimsFor(s, u, time.Now()))))
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+userinfoPath, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)

	s.Close()
	_, err = l.Accept()
	assert.ErrorIs(t, err, net.ErrClosed, "Close leaves the listener open")
}

func TestWithListenerAndInProcessPanic(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	assert.PanicsWithValue(t, "serviceusertest: InProcess and WithListener exclude each other", func() {
		NewServer(InProcess(), WithListener(l))
	})
}
