package jwks

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A refetch for an unknown kid that fails shortly before the set's
// max-age ends does not hold back the fetch due at max-age: a failure
// anyone can provoke (a token naming a random kid during a blip) must not
// turn into 503s for every JWT once the set expires.
func TestFailedRefetchDoesNotDelayExpiryFetch(t *testing.T) {
	synctestRun(t, func(t *testing.T) {
		s := newServer(rsaJWK("a", &testKeys()[0].PublicKey))
		set := newSet(s)
		_, err := set.Key(context.Background(), "a")
		require.NoError(t, err)

		time.Sleep(290 * time.Second)
		s.set(func(s *server) { s.status = http.StatusBadGateway })
		_, err = set.Key(context.Background(), "random")
		require.EqualError(t, err, "wrapped: key set: HTTP 502")
		_, err = set.Key(context.Background(), "a")
		require.NoError(t, err, "the set held still serves")

		s.set(func(s *server) { s.status = http.StatusOK })
		time.Sleep(10 * time.Second)
		_, err = set.Key(context.Background(), "a")
		require.NoError(t, err, "fetched again at max-age")
		require.EqualValues(t, 3, s.requests.Load())
	})
}

// An answer with no key that a token could name (an empty "keys", or keys
// without kid) is a failed fetch, not a set that refuses every token: the
// keys held keep serving until their max-age, and without any the caller
// gets an error (the middleware's 503), not a refusal (a 401 that logs
// users out).
func TestEmptyKeySetIsAFailure(t *testing.T) {
	synctestRun(t, func(t *testing.T) {
		s := newServer(rsaJWK("a", &testKeys()[0].PublicKey))
		set := newSet(s)
		_, err := set.Key(context.Background(), "a")
		require.NoError(t, err)

		time.Sleep(RefetchInterval)
		s.set(func(s *server) { s.raw = `{"keys":[]}` })
		_, err = set.Key(context.Background(), "b")
		require.EqualError(t, err, "wrapped: key set unusable")
		require.EqualValues(t, 2, s.requests.Load())
		_, err = set.Key(context.Background(), "a")
		require.NoError(t, err, "the set held still serves")

		for _, body := range []string{`{"keys":[]}`, `{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`} {
			fresh := newSet(s)
			s.set(func(s *server) { s.raw = body })
			_, err = fresh.Key(context.Background(), "a")
			require.EqualError(t, err, "wrapped: key set unusable", body)
			require.NotErrorIs(t, err, ErrUnknownKey, body)
		}
	})
}
