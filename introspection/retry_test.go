package introspection_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/introspection"
)

// A transient failure of the one introspection request is retried within
// the caller's wait: the caller gets the answer of the second request, and
// the hooks hear of one Introspect call.
func TestIntrospectRetriesTransientFailure(t *testing.T) {
	for _, f := range []failure{internal, proxyHTML, htmlOK, reset, cut} {
		t.Run(fmt.Sprint(f), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &scripted{script: func(n int, _ string) failure {
					if n == 1 {
						return f
					}
					return answer
				}}
				var events []hooks.IntrospectionDoneInfo
				in := s.introspector(t, &hooks.Hooks{IntrospectionDone: func(_ context.Context, i hooks.IntrospectionDoneInfo) {
					events = append(events, i)
				}}, 0)
				start := time.Now()
				r, err := in.Introspect(deadline(t, 15*time.Second), opaqueToken("token-a"))
				require.NoError(t, err)
				assert.True(t, r.Active)
				assert.Equal(t, 2, s.requests())
				assert.LessOrEqual(t, time.Since(start), 50*time.Millisecond, "the first pause is short")
				require.Len(t, events, 1, "one event per Introspect call, however many requests it took")
				assert.False(t, events[0].CacheHit)
				assert.True(t, events[0].Active)
				assert.NoError(t, events[0].Err)
			})
		})
	}
}

// Answers of a server that is up are not retried: a 400 or 401 (a
// configuration error), and {"active":false}, which ZITADEL also answers
// for a refused client assertion.
func TestIntrospectNoRetryOfAnswers(t *testing.T) {
	for _, f := range []failure{badRequest, unauthorized, inactive} {
		t.Run(fmt.Sprint(f), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &scripted{script: func(int, string) failure { return f }}
				in := s.introspector(t, nil, 0)
				r, err := in.Introspect(deadline(t, 15*time.Second), opaqueToken("token-a"))
				if f == inactive {
					require.NoError(t, err)
					assert.False(t, r.Active)
				} else {
					var te *serviceuser.TokenError
					require.ErrorAs(t, err, &te)
				}
				time.Sleep(time.Minute)
				synctest.Wait()
				assert.Equal(t, 1, s.requests())
			})
		})
	}
}

// A dead endpoint costs at most MaxAttempts requests per lookup; after
// BreakerFailures failed requests in a row, one per lookup, until a request
// is answered.
func TestIntrospectDeadEndpointBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := false
		s := &scripted{script: func(int, string) failure {
			if up {
				return answer
			}
			return proxyHTML
		}}
		in := s.introspector(t, nil, 0)
		lookup := func(name string) (int, error) {
			before := s.requests()
			_, err := in.Introspect(context.Background(), opaqueToken(name))
			return s.requests() - before, err
		}
		failed := 0
		for i := 0; failed < introspection.BreakerFailures; i++ {
			n, err := lookup(fmt.Sprint("early-", i, "-x"))
			require.Error(t, err)
			assert.Equal(t, min(introspection.MaxAttempts, introspection.BreakerFailures-failed), n, "lookup %d", i)
			failed += n
		}
		for i := range 5 {
			n, err := lookup(fmt.Sprint("outage-", i, "-x"))
			require.Error(t, err)
			assert.Equal(t, 1, n, "one request per lookup while every request fails")
		}
		up = true
		n, err := lookup("recovered")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		up = false
		n, err = lookup("again")
		require.Error(t, err)
		assert.Equal(t, introspection.MaxAttempts, n, "an answered request closes the breaker")
	})
}

// Concurrent lookups during an outage cost one request each, plus at most
// BreakerFailures retries in all.
func TestIntrospectOutageRequestBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{script: func(int, string) failure { return reset }}
		in := s.introspector(t, nil, 0)
		const lookups = 100
		var wg sync.WaitGroup
		for i := range lookups {
			wg.Go(func() {
				_, err := in.Introspect(deadline(t, 15*time.Second), opaqueToken(fmt.Sprint("token-", i, "-x")))
				var te *serviceuser.TokenError
				assert.ErrorAs(t, err, &te)
			})
		}
		wg.Wait()
		assert.GreaterOrEqual(t, s.requests(), lookups)
		assert.LessOrEqual(t, s.requests(), lookups+introspection.BreakerFailures)
	})
}

// A caller whose context ends stops waiting at once, and when no one else
// waits, no further request is made.
func TestIntrospectRetryStopsWhenCallerLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{script: func(int, string) failure { return internal }}
		in := s.introspector(t, nil, 0)
		ctx, cancel := context.WithCancel(context.Background())
		out := introspectAsync(ctx, in, opaqueToken("token-a"))
		synctest.Wait() // the first request failed; the flight pauses
		require.Equal(t, 1, s.requests())
		cancel()
		synctest.Wait()
		select {
		case o := <-out:
			assert.ErrorIs(t, o.err, context.Canceled)
		default:
			t.Fatal("a cancelled caller still waits")
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, 1, s.requests(), "no retry for a caller that is gone")
	})
}

// A retry ends when the last caller waiting for it leaves: the callers'
// contexts bound the lookup, not the timeout.
func TestIntrospectRetryEndsWithLastCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{script: func(n int, _ string) failure {
			if n == 1 {
				return internal
			}
			return hang
		}}
		in := s.introspector(t, nil, 0)
		ctx, cancel := context.WithCancel(context.Background())
		out := introspectAsync(ctx, in, opaqueToken("token-a"))
		time.Sleep(time.Second)
		synctest.Wait()
		require.Equal(t, 1, s.held(), "the retry is held by the server")
		start := time.Now()
		cancel()
		assert.ErrorIs(t, (<-out).err, context.Canceled)
		synctest.Wait()
		assert.Zero(t, s.held(), "the retry ended with the caller's wait")
		assert.Zero(t, time.Since(start))

		// A caller that comes later starts afresh.
		s.script = func(int, string) failure { return answer }
		r, err := in.Introspect(context.Background(), opaqueToken("token-a"))
		require.NoError(t, err)
		assert.True(t, r.Active)
		assert.Equal(t, 3, s.requests())
	})
}

// A flight goes on while any caller waits: the one that stays gets the
// answer of the retry.
func TestIntrospectRetryServesRemainingCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{script: func(n int, _ string) failure {
			if n < 3 {
				return internal
			}
			return answer
		}}
		in := s.introspector(t, nil, 0)
		ctx, cancel := context.WithCancel(context.Background())
		leaving := introspectAsync(ctx, in, opaqueToken("token-a"))
		staying := introspectAsync(deadline(t, 15*time.Second), in, opaqueToken("token-a"))
		synctest.Wait()
		cancel()
		assert.ErrorIs(t, (<-leaving).err, context.Canceled)
		o := <-staying
		require.NoError(t, o.err)
		assert.True(t, o.result.Active)
		assert.Equal(t, 3, s.requests())
	})
}

// A 429's Retry-After is honoured when it ends before the caller's
// deadline; otherwise the caller gets the error at once.
func TestIntrospectRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{after: "2", script: func(n int, _ string) failure {
			if n == 1 {
				return limited
			}
			return answer
		}}
		in := s.introspector(t, nil, 0)
		start := time.Now()
		r, err := in.Introspect(deadline(t, 15*time.Second), opaqueToken("token-a"))
		require.NoError(t, err)
		assert.True(t, r.Active)
		assert.GreaterOrEqual(t, time.Since(start), 2*time.Second)
		assert.Equal(t, 2, s.requests())

		s = &scripted{after: "30", script: func(int, string) failure { return limited }}
		in = s.introspector(t, nil, 0)
		start = time.Now()
		_, err = in.Introspect(deadline(t, 15*time.Second), opaqueToken("token-a"))
		var te *serviceuser.TokenError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 429, te.StatusCode)
		assert.Zero(t, time.Since(start), "a Retry-After past the deadline is not waited for")
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, 1, s.requests())
	})
}

// A flight that pauses between requests holds no request slot: another
// token's request goes out meanwhile.
func TestIntrospectPauseFreesSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{script: func(_ int, token string) failure {
			if token == opaqueToken("failing") {
				return internal
			}
			return answer
		}}
		in := s.introspector(t, nil, 1)
		failing := introspectAsync(context.Background(), in, opaqueToken("failing"))
		synctest.Wait() // paused after its first request
		start := time.Now()
		r, err := in.Introspect(context.Background(), opaqueToken("other"))
		require.NoError(t, err)
		assert.True(t, r.Active)
		assert.Zero(t, time.Since(start), "no wait for the pausing flight's slot")
		assert.Error(t, (<-failing).err)
		assert.Equal(t, introspection.MaxAttempts, s.requests(opaqueToken("failing")))
	})
}
