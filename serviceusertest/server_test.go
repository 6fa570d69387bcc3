package serviceusertest

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests named TestZitadel... pin, row by row, the answers measured on a real
// ZITADEL v4.13.1: status, content type, body and headers.

func newServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

type response struct {
	status int
	header http.Header
	raw    string
	json   map[string]any
}

func do(t *testing.T, s *Server, req *http.Request) response {
	t.Helper()
	res, err := s.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	r := response{status: res.StatusCode, header: res.Header, raw: string(b)}
	_ = json.Unmarshal(b, &r.json)
	return r
}

// fields returns the sorted member names of a JSON object.
func fields(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// inBubble runs f in a testing/synctest bubble with an in-process server
// made with opts: the server's clock is the bubble's, which stands still
// until time.Sleep moves it, instantly and exactly.
func inBubble(t *testing.T, f func(t *testing.T, s *Server), opts ...Option) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) { f(t, newServer(t, append(opts, InProcess())...)) })
}

// sleepUntil moves the clock of the bubble it runs in to at.
func sleepUntil(t *testing.T, at time.Time) {
	t.Helper()
	d := time.Until(at)
	require.GreaterOrEqual(t, d, time.Duration(0), "the clock only moves forward")
	time.Sleep(d)
}

func TestClockOffset(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	assertion := signAs(t, u, claimsFor(s, u, time.Now()))

	s.SetClockOffset(-10 * time.Second) // server behind the client
	requireInternal(t, grant(t, s, assertion))
	require.ErrorIs(t, lastRejection(t, s), ErrIatInFuture)

	s.SetClockOffset(2 * time.Hour) // server ahead: assertion expired
	requireInternal(t, grant(t, s, assertion))
	require.ErrorIs(t, lastRejection(t, s), ErrExpired)

	s.SetClockOffset(0)
	requireIssued(t, grant(t, s, assertion))
}

func TestLegacyErrors(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	s.SetLegacyErrors(true)
	c := claimsFor(s, u, time.Now())
	c["aud"] = s.Issuer() + "/"
	r := grant(t, s, signAs(t, u, c))
	require.Equal(t, http.StatusBadRequest, r.status, r.raw)
	require.Equal(t, "invalid_grant", r.json["error"])
	require.Contains(t, r.json["error_description"], "audience is not valid")

	s.SetLegacyErrors(false)
	requireInternal(t, grant(t, s, signAs(t, u, c)))
}

func TestCounters(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	now := time.Now()
	requireIssued(t, grant(t, s, signAs(t, u, claimsFor(s, u, now))))
	bad := claimsFor(s, u, now)
	bad["sub"] = "someone else"
	requireInternal(t, grant(t, s, signAs(t, u, bad)))
	s.FailNext(1, Fault{Status: http.StatusTooManyRequests})
	r := grant(t, s, signAs(t, u, claimsFor(s, u, now)))
	require.Equal(t, http.StatusTooManyRequests, r.status)

	assert.Equal(t, 3, s.TokenRequests())
	assert.Equal(t, 1, s.IssuedTokens())
	rej := s.Rejections()
	require.Len(t, rej, 1)
	assert.ErrorIs(t, rej[0], ErrSubjectInvalid)
	assert.Equal(t, "delegation not allowed, issuer and sub must be identical", rej[0].Error())
}

// Concurrent use of knobs and endpoints must be race free.
func TestConcurrentUse(t *testing.T) {
	s := newServer(t)
	u := s.NewServiceUser()
	assertion := signAs(t, u, claimsFor(s, u, time.Now()))
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			s.SetClockOffset(0)
			s.SetLatency(0)
			s.FailNext(1, Fault{Status: 503})
			_ = postWithContext(context.Background(), s)
			if res, err := s.Client().PostForm(s.TokenURL(), url.Values{"grant_type": {GrantTypeJWTBearer}, "assertion": {assertion}, "scope": {"openid"}}); err == nil {
				_ = res.Body.Close()
			}
			_ = s.Rejections()
		}()
	}
	for range 8 {
		<-done
	}
	// Each fault is taken by exactly one request.
	assert.Equal(t, 16, s.TokenRequests())
	assert.Equal(t, 8, s.IssuedTokens()+len(s.Rejections()))
}
