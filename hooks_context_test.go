package serviceuser_test

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/filewatch"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// ctxKey keys the values the tests put in contexts.
type ctxKey string

// ctxRecords is a slog.Handler that keeps each record's message with the
// values its context carries under the keys "source" and "caller".
type ctxRecords struct {
	mu   *sync.Mutex
	seen *[]ctxRecord
}

type ctxRecord struct {
	msg            string
	source, caller any
}

func newCtxRecords() ctxRecords { return ctxRecords{mu: &sync.Mutex{}, seen: &[]ctxRecord{}} }

func (h ctxRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h ctxRecords) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h ctxRecords) WithGroup(string) slog.Handler            { return h }

func (h ctxRecords) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.seen = append(*h.seen, ctxRecord{msg: r.Message, source: ctx.Value(ctxKey("source")), caller: ctx.Value(ctxKey("caller"))})
	return nil
}

// take returns the records kept so far and forgets them.
func (h ctxRecords) take() []ctxRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := *h.seen
	*h.seen = nil
	return seen
}

func messages(recs []ctxRecord) []string {
	var msgs []string
	for _, r := range recs {
		msgs = append(msgs, r.msg)
	}
	return msgs
}

// TestSlogRecordsCarryTheOperationsContext: hooks.Slog logs each event with
// the context of the work it tells of, so that a handler can add a trace id
// or a request's attributes. A refresh a caller waits for carries the
// values of that caller's ctx and of the ctx the source was made with; a
// refresh ahead of expiry only the latter; a rejected token the request's.
func TestSlogRecordsCarryTheOperationsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := serviceusertest.NewServer(serviceusertest.InProcess())
		defer srv.Close()
		key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
		require.NoError(t, err)
		h := newCtxRecords()
		made := context.WithValue(t.Context(), ctxKey("source"), "made-with")
		ts := serviceuser.Config{Key: key, Issuer: srv.Issuer(), HTTPClient: srv.Client(),
			Scopes: []string{"openid", scope.ZitadelAPI}, Hooks: hooks.Slog(slog.New(h))}.TokenSource(made)
		defer ts.Close()

		caller, cancel := context.WithCancel(context.WithValue(t.Context(), ctxKey("caller"), "first caller"))
		first, err := ts.TokenContext(caller)
		require.NoError(t, err)
		cancel() // the records keep the values, not the cancellation
		recs := h.take()
		assert.Equal(t, []string{"serviceuser: token request", "serviceuser: discovery done", "serviceuser: token refreshed"}, messages(recs))
		for _, r := range recs {
			assert.Equal(t, ctxRecord{msg: r.msg, source: "made-with", caller: "first caller"}, r)
		}

		time.Sleep(time.Until(first.Expiry) - 2*time.Minute) // into the refresh ahead of expiry
		_, err = ts.TokenContext(context.WithValue(t.Context(), ctxKey("caller"), "not waiting"))
		require.NoError(t, err)
		synctest.Wait()
		recs = h.take()
		assert.Equal(t, []string{"serviceuser: token request", "serviceuser: token refreshed"}, messages(recs))
		for _, r := range recs {
			assert.Equal(t, ctxRecord{msg: r.msg, source: "made-with"}, r, "no caller waits for a refresh ahead of expiry")
		}

		tok, err := ts.Token()
		require.NoError(t, err)
		srv.RevokeToken(tok.AccessToken)
		time.Sleep(time.Minute) // old enough to be dropped
		req, err := http.NewRequestWithContext(context.WithValue(t.Context(), ctxKey("caller"), "request"),
			http.MethodGet, srv.ManagementURL()+"/orgs/me", nil)
		require.NoError(t, err)
		resp, err := ts.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		recs = h.take()
		assert.Equal(t, []string{"serviceuser: token request", "serviceuser: token refreshed", "serviceuser: token rejected by an API"}, messages(recs))
		for _, r := range recs {
			assert.Equal(t, "request", r.caller, "%s: the request's ctx", r.msg)
		}
	})
}

// sourcesSeen records, per event, the source SourceFromContext names.
type sourcesSeen struct {
	mu   sync.Mutex
	seen map[string][]*serviceuser.TokenSource
}

func (s *sourcesSeen) hooks() *hooks.Hooks {
	s.seen = map[string][]*serviceuser.TokenSource{}
	add := func(event string) func(ctx context.Context) {
		return func(ctx context.Context) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.seen[event] = append(s.seen[event], serviceuser.SourceFromContext(ctx))
		}
	}
	start, done, disc, rej := add("RefreshStart"), add("RefreshDone"), add("DiscoveryDone"), add("TokenRejected")
	return &hooks.Hooks{
		RefreshStart:  func(ctx context.Context, _ hooks.RefreshStartInfo) { start(ctx) },
		RefreshDone:   func(ctx context.Context, _ hooks.RefreshDoneInfo) { done(ctx) },
		DiscoveryDone: func(ctx context.Context, _ hooks.DiscoveryDoneInfo) { disc(ctx) },
		TokenRejected: func(ctx context.Context, _ hooks.TokenRejectedInfo) { rej(ctx) },
	}
}

func (s *sourcesSeen) take() map[string][]*serviceuser.TokenSource {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := s.seen
	s.seen = map[string][]*serviceuser.TokenSource{}
	return seen
}

// TestHooksTellSourcesApart: two sources share one Hooks value; every event
// names, through SourceFromContext, the source whose work it tells of.
func TestHooksTellSourcesApart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := serviceusertest.NewServer(serviceusertest.InProcess())
		defer srv.Close()
		var seen sourcesSeen
		hk := seen.hooks()
		newSource := func() *serviceuser.TokenSource {
			key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
			require.NoError(t, err)
			ts := serviceuser.Config{Key: key, Issuer: srv.Issuer(), HTTPClient: srv.Client(), Hooks: hk,
				Scopes: []string{"openid", scope.ZitadelAPI}}.TokenSource(t.Context())
			t.Cleanup(func() { ts.Close() })
			return ts
		}
		a, b := newSource(), newSource()
		for _, ts := range []*serviceuser.TokenSource{a, b} {
			_, err := ts.Token()
			require.NoError(t, err)
			assert.Equal(t, map[string][]*serviceuser.TokenSource{
				"RefreshStart": {ts}, "RefreshDone": {ts}, "DiscoveryDone": {ts},
			}, seen.take())
		}

		tok, err := b.Token()
		require.NoError(t, err)
		srv.RevokeToken(tok.AccessToken)
		time.Sleep(time.Minute) // old enough to be dropped
		resp, err := b.Client().Get(srv.ManagementURL() + "/orgs/me")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, map[string][]*serviceuser.TokenSource{
			"RefreshStart": {b}, "RefreshDone": {b}, "TokenRejected": {b},
		}, seen.take())

		assert.Nil(t, serviceuser.SourceFromContext(t.Context()), "no source in a context of the caller's")
	})
}

// TestRefreshContextEndsWithTheSourceNotTheCaller: the context a refresh's
// hooks get keeps the waiting caller's values after the caller is gone,
// and so does a context derived from it; both end when the source is
// closed.
func TestRefreshContextEndsWithTheSourceNotTheCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got context.Context
		_, cfg := inProcessConfig(t, &hooks.Hooks{RefreshStart: func(ctx context.Context, _ hooks.RefreshStartInfo) { got = ctx }})
		ts := cfg.TokenSource(context.WithValue(t.Context(), ctxKey("source"), "made-with"))
		caller, cancel := context.WithTimeout(context.WithValue(t.Context(), ctxKey("caller"), "caller"), time.Minute)
		_, err := ts.TokenContext(caller)
		require.NoError(t, err)
		require.NotNil(t, got)
		derived, stop := context.WithCancel(got)
		defer stop()
		cancel()

		for _, ctx := range []context.Context{got, derived} {
			assert.NoError(t, ctx.Err(), "the caller's end is not the refresh's")
			_, hasDeadline := ctx.Deadline()
			assert.False(t, hasDeadline, "nor its deadline")
			assert.Equal(t, "caller", ctx.Value(ctxKey("caller")))
			assert.Equal(t, "made-with", ctx.Value(ctxKey("source")))
			assert.Same(t, ts, serviceuser.SourceFromContext(ctx))
		}
		require.NoError(t, ts.Close())
		synctest.Wait()
		assert.ErrorIs(t, got.Err(), context.Canceled, "it ends with the source")
		assert.ErrorIs(t, derived.Err(), context.Canceled)
	})
}

// TestCredentialReloadedCarriesTheRequestsContext: a reloaded key file is
// told with the context of the token request that uses it first: the
// waiting caller's values and the source.
func TestCredentialReloadedCarriesTheRequestsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := serviceusertest.NewServer(serviceusertest.InProcess())
		defer srv.Close()
		srv.SetTokenLifetime(5 * time.Minute)
		user := srv.NewServiceUser()
		file := rotations["rewrite in place"](t, t.TempDir(), user.KeyFile)
		kw, err := filewatch.NewKeySource(file.path)
		require.NoError(t, err)
		type reload struct {
			caller any
			source *serviceuser.TokenSource
			kid    string
		}
		var reloads []reload
		hk := &hooks.Hooks{CredentialReloaded: func(ctx context.Context, i hooks.CredentialReloadedInfo) {
			reloads = append(reloads, reload{ctx.Value(ctxKey("caller")), serviceuser.SourceFromContext(ctx), i.KeyID})
		}}
		ts := serviceuser.Config{Key: kw, Issuer: srv.Issuer(), HTTPClient: srv.Client(), Hooks: hk}.TokenSource(t.Context())
		defer ts.Close()
		first, err := ts.Token()
		require.NoError(t, err)

		kid, data := newKeyFile(t, srv, user, nil)
		file.replace(t, data)
		time.Sleep(time.Until(first.Expiry) + time.Second) // the next caller waits
		_, err = ts.TokenContext(context.WithValue(t.Context(), ctxKey("caller"), "after the rotation"))
		require.NoError(t, err)
		assert.Equal(t, []reload{{"after the rotation", ts, kid}}, reloads)
	})
}
