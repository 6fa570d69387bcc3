package serviceusertest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFailNext(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	assertion := signAs(t, u, claimsFor(s, u, time.Now()))

	s.FailNext(2, Fault{Status: http.StatusServiceUnavailable, Body: "<html>busy</html>", Header: http.Header{"Retry-After": {"7"}}})
	s.FailNext(1, Fault{})
	s.FailNext(1, Fault{Status: http.StatusBadGateway, NoBody: true})
	for range 2 {
		r := grant(t, s, assertion)
		require.Equal(t, http.StatusServiceUnavailable, r.status)
		require.Equal(t, "<html>busy</html>", r.raw)
		require.Equal(t, "7", r.header.Get("Retry-After"))
	}
	requireInternal(t, grant(t, s, assertion))
	r := grant(t, s, assertion)
	require.Equal(t, http.StatusBadGateway, r.status)
	require.Empty(t, r.raw)
	requireIssued(t, grant(t, s, assertion))

	s.FailNext(3, Fault{})
	s.FailNext(0, Fault{})
	requireIssued(t, grant(t, s, assertion))

	assert.Equal(t, 6, s.TokenRequests())
	assert.Equal(t, 2, s.IssuedTokens())
	assert.Empty(t, s.Rejections(), "faults are not rejections")
}

func postWithContext(ctx context.Context, s *Server) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.TokenURL(), strings.NewReader("grant_type=x"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := s.Client().Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	return res.Body.Close()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, 5*time.Millisecond)
}

func TestHang(t *testing.T) {
	s := NewServer()
	defer s.Close()

	s.FailNext(1, Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := postWithContext(ctx, s)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// A request hung without deadline is released by Close.
	s.FailNext(1, Fault{Hang: true})
	errc := make(chan error, 1)
	go func() { errc <- postWithContext(context.Background(), s) }()
	waitFor(t, func() bool { return s.TokenRequests() == 2 })
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		t.Fatal("Close deadlocked on a hung request")
	}
	require.Error(t, <-errc)
}

func TestLatency(t *testing.T) {
	s := NewServer()
	defer s.Close()
	u := s.NewServiceUser()
	assertion := signAs(t, u, claimsFor(s, u, time.Now()))

	s.SetLatency(150 * time.Millisecond)
	requireIssued(t, grant(t, s, assertion))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, postWithContext(ctx, s), context.DeadlineExceeded)

	s.SetLatency(time.Hour)
	errc := make(chan error, 1)
	go func() { errc <- postWithContext(context.Background(), s) }()
	waitFor(t, func() bool { return s.TokenRequests() == 3 })
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		t.Fatal("Close deadlocked on a delayed request")
	}
	require.Error(t, <-errc)
}

func TestCloseConn(t *testing.T) {
	s := newServer(t)
	s.FailNext(1, Fault{CloseConn: true})
	err := postWithContext(context.Background(), s)
	require.Error(t, err)
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, 1, s.TokenRequests())
	require.Equal(t, 0, s.IssuedTokens())
}
