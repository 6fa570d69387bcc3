package serviceusertest

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInProcessInSynctestBubble: without a listener the server runs in a
// bubble, on the bubble's clock: a token lives exactly its lifetime.
func TestInProcessInSynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t, InProcess())
		assert.Equal(t, "http://127.0.0.1:1", s.Issuer())
		u := s.NewServiceUser()
		tok := requireIssued(t, grant(t, s, signAs(t, u, claimsFor(s, u, time.Now()))))

		time.Sleep(DefaultTokenLifetime - time.Nanosecond)
		assert.Equal(t, http.StatusOK, userinfo(t, s, tok).status, "valid until its last instant")
		time.Sleep(time.Nanosecond)
		assert.Equal(t, http.StatusUnauthorized, userinfo(t, s, tok).status, "expired")
	})
}

// TestInProcessLatencyOnBubbleClock: SetLatency waits on the bubble's clock,
// exactly and without real waiting.
func TestInProcessLatencyOnBubbleClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t, InProcess())
		u := s.NewServiceUser()
		s.SetLatency(5 * time.Second)
		start := time.Now()
		requireIssued(t, grant(t, s, signAs(t, u, claimsFor(s, u, start))))
		assert.Equal(t, 5*time.Second, time.Since(start))
	})
}

// hungRequest sends a token request the server holds with a Hang fault.
func hungRequest(ctx context.Context, s *Server) error {
	s.FailNext(1, Fault{Hang: true})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.TokenURL(), strings.NewReader("x=1"))
	if err != nil {
		return err
	}
	resp, err := s.Client().Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return err
}

// TestInProcessHangEndsWithContextOrClose: a held request ends when its
// context does, or without an answer when the server closes; a closed
// server refuses requests.
func TestInProcessHangEndsWithContextOrClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewServer(InProcess())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		assert.ErrorIs(t, hungRequest(ctx, s), context.DeadlineExceeded)
		assert.Equal(t, time.Minute, time.Since(start))

		held := make(chan error, 1)
		go func() { held <- hungRequest(context.Background(), s) }()
		synctest.Wait() // the request is held
		s.Close()
		assert.ErrorIs(t, <-held, io.ErrUnexpectedEOF)

		_, err := s.Client().Get(s.Issuer() + discoveryPath)
		assert.ErrorIs(t, err, errClosed)
	})
}

// closeTracker records whether a request body was closed.
type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

// TestInProcessTransportLeavesRequestAlone: the handler parses a copy of the
// request; the caller's request is not changed and its body is closed, on
// success and on error; the response is a complete one.
func TestInProcessTransportLeavesRequestAlone(t *testing.T) {
	s := newServer(t, InProcess())
	body := &closeTracker{Reader: strings.NewReader(url.Values{"grant_type": {"password"}}.Encode())}
	req, err := http.NewRequest(http.MethodPost, s.TokenURL(), body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.Transport().RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, string(raw), "unsupported_grant_type")
	assert.EqualValues(t, len(raw), resp.ContentLength)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Same(t, req, resp.Request)
	assert.True(t, body.closed, "request body closed")
	assert.Nil(t, req.PostForm, "caller's request not parsed into")

	elsewhere := &closeTracker{Reader: strings.NewReader("x")}
	req, err = http.NewRequest(http.MethodPost, "http://127.0.0.1:2/oauth/v2/token", elsewhere)
	require.NoError(t, err)
	_, err = s.Transport().RoundTrip(req)
	assert.ErrorContains(t, err, "answers on 127.0.0.1:1 only")
	assert.True(t, elsewhere.closed, "request body closed on error")
}

// TestInProcessInstanceDomain: as with a listener, the loopback address
// answers 404 once the instance has another domain, unless the request
// names the domain.
func TestInProcessInstanceDomain(t *testing.T) {
	s := newServer(t, InProcess())
	s.SetInstanceDomain("localhost:1")
	assert.Equal(t, "http://localhost:1", s.Issuer())
	byAddress := "http://" + s.ListenerHost() + discoveryPath
	req, err := http.NewRequest(http.MethodGet, byAddress, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, do(t, s, req).status)
	req.Header.Set(InstanceHostHeader, "localhost:1")
	assert.Equal(t, http.StatusOK, do(t, s, req).status)
	req, err = http.NewRequest(http.MethodGet, s.Issuer()+discoveryPath, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, do(t, s, req).status)
}
