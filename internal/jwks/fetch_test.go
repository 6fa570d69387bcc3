package jwks

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/internal/contain"
)

func synctestRun(t *testing.T, f func(t *testing.T)) { synctest.Test(t, f) }

func TestMaxAge(t *testing.T) {
	for _, c := range []struct {
		header []string
		want   time.Duration
	}{
		{[]string{"max-age=300, must-revalidate"}, 300 * time.Second}, // ZITADEL's
		{nil, DefaultMaxAge},
		{[]string{"public"}, DefaultMaxAge},
		{[]string{"public, MAX-AGE=60"}, time.Minute},
		{[]string{"public", `max-age="120"`}, 2 * time.Minute},
		{[]string{"max-age=0"}, MinMaxAge},
		{[]string{"max-age=5"}, MinMaxAge},
		{[]string{"max-age=86400"}, MaxMaxAge},
		{[]string{"max-age=99999999999999999999"}, DefaultMaxAge},
		{[]string{"max-age=-1"}, DefaultMaxAge},
		{[]string{"max-age=600, no-store"}, MinMaxAge},
		{[]string{"no-cache"}, MinMaxAge},
	} {
		assert.Equal(t, c.want, MaxAge(c.header), "%q", c.header)
	}
}

// The set is kept as long as its answer's Cache-Control says, within bounds.
func TestCacheControlKeepsSet(t *testing.T) {
	synctestRun(t, func(t *testing.T) {
		s := newServer(rsaJWK("a", &testKeys()[0].PublicKey))
		s.header.Set("Cache-Control", "max-age=0")
		set := newSet(s)
		for i, wait := range []time.Duration{0, MinMaxAge - time.Nanosecond, time.Nanosecond} {
			time.Sleep(wait)
			_, err := set.Key(context.Background(), "a")
			require.NoError(t, err)
			require.EqualValues(t, 1+i/2, s.requests.Load(), "max-age=0 is MinMaxAge")
		}
	})
}

// A failed fetch is an error that says nothing of the token; it is not
// repeated for every caller, and keys past their max-age are not used.
func TestFetchFailure(t *testing.T) {
	synctestRun(t, func(t *testing.T) {
		s := newServer(rsaJWK("a", &testKeys()[0].PublicKey))
		s.status = http.StatusInternalServerError
		set := newSet(s)
		for range 5 {
			_, err := set.Key(context.Background(), "a")
			require.EqualError(t, err, "wrapped: key set: HTTP 500")
		}
		require.EqualValues(t, 1, s.requests.Load(), "one failed fetch per retry interval")
		time.Sleep(retryInterval)
		s.set(func(s *server) { s.status = http.StatusOK })
		_, err := set.Key(context.Background(), "a")
		require.NoError(t, err)
		require.EqualValues(t, 2, s.requests.Load())

		// Past max-age the held keys are not used when the refetch fails
		// (must-revalidate).
		s.set(func(s *server) { s.status = http.StatusBadGateway })
		time.Sleep(300 * time.Second)
		_, err = set.Key(context.Background(), "a")
		require.EqualError(t, err, "wrapped: key set: HTTP 502")

		for _, body := range []string{`[]`, `{}`, `{"keys":null}`, `<html>`} {
			time.Sleep(retryInterval)
			s.set(func(s *server) { s.status = http.StatusOK; s.raw = body })
			_, err = set.Key(context.Background(), "a")
			require.EqualError(t, err, "wrapped: key set unusable", body)
		}
	})
}

// A panic in the HTTP client's RoundTripper becomes an error for every
// waiting caller, not a crash.
func TestFetchPanicContained(t *testing.T) {
	synctestRun(t, func(t *testing.T) {
		s := newServer()
		s.panics = true
		set := newSet(s)
		set.wrap = nil // a contained panic is not a discovery error
		_, err := set.Key(context.Background(), "a")
		var pe *contain.PanicError
		require.ErrorAs(t, err, &pe)
		require.NotContains(t, err.Error(), "round tripper bug")
	})
}

// A caller whose ctx ends stops waiting; the fetch goes on for the others.
func TestCallerContextEndsWait(t *testing.T) {
	synctestRun(t, func(t *testing.T) {
		s := newServer(rsaJWK("a", &testKeys()[0].PublicKey))
		s.block = make(chan struct{})
		set := newSet(s)
		ctx, cancel := context.WithCancel(context.Background())
		gone := make(chan error, 1)
		go func() { _, err := set.Key(ctx, "a"); gone <- err }()
		other := make(chan error, 1)
		go func() { _, err := set.Key(context.Background(), "a"); other <- err }()
		synctest.Wait()
		cancel()
		require.ErrorIs(t, <-gone, context.Canceled)
		s.set(func(s *server) { close(s.block) })
		require.NoError(t, <-other)
		require.EqualValues(t, 1, s.requests.Load())

		_, err := set.Key(ctx, "a")
		require.ErrorIs(t, err, context.Canceled, "an ended ctx gets no key")
	})
}

// The URL comes from discovery: its failure is the caller's error.
func TestURLFailure(t *testing.T) {
	synctestRun(t, func(t *testing.T) {
		s := newServer()
		set := newSet(s)
		set.url = func(context.Context) (string, error) { return "", errors.New("discovery failed") }
		_, err := set.Key(context.Background(), "a")
		require.EqualError(t, err, "discovery failed")
		require.Zero(t, s.requests.Load())
	})
}
