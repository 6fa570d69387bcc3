package serviceuser

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/internal/cache"
)

// TestClassify: the retry schedule sees the library's errors by what heals
// them.
func TestClassify(t *testing.T) {
	notProjected := &TokenError{StatusCode: 400, Code: "invalid_request", Description: "Errors.User.Machine.Secret.NotExisting"}
	cases := map[string]struct {
		err  error
		want cache.Class
	}{
		"no answer":            {&TokenError{Err: errors.New("connection refused")}, cache.Class{Kind: cache.Quick}},
		"503":                  {&TokenError{StatusCode: 503}, cache.Class{Kind: cache.Quick}},
		"500 Errors.Internal":  {&TokenError{StatusCode: 500, Code: "server_error", Description: "Errors.Internal"}, cache.Class{Kind: cache.Quick}},
		"secret not projected": {notProjected, cache.Class{Kind: cache.Quick, Lagging: true}},
		"user not projected":   {&TokenError{StatusCode: 404, Code: "invalid_request", Description: "Errors.User.NotFound"}, cache.Class{Kind: cache.Quick, Lagging: true}},
		"429 Retry-After":      {&TokenError{StatusCode: 429, RetryAfter: 42 * time.Second}, cache.Class{Kind: cache.RateLimited, RetryAfter: 42 * time.Second, Overloaded: true}},
		"429":                  {&TokenError{StatusCode: 429}, cache.Class{Kind: cache.RateLimited, Overloaded: true}},
		"503 Retry-After":      {&TokenError{StatusCode: 503, RetryAfter: time.Hour}, cache.Class{Kind: cache.RateLimited, RetryAfter: time.Hour}},
		"invalid_grant":        {&TokenError{StatusCode: 400, Code: "invalid_grant"}, cache.Class{Kind: cache.Permanent}},
		"user not active":      {&TokenError{StatusCode: 400, Code: "invalid_request", Description: "Errors.User.NotActive"}, cache.Class{Kind: cache.Permanent}},
		"key expired":          {fmt.Errorf("signing: %w", ErrKeyExpired), cache.Class{Kind: cache.Permanent}},
		"config":               {&ConfigError{Field: "Issuer"}, cache.Class{Kind: cache.Permanent}},
		"other issuer":         {&DiscoveryError{OtherIssuer: "https://other.example"}, cache.Class{Kind: cache.Permanent}},
		"discovery 404":        {&DiscoveryError{StatusCode: 404}, cache.Class{Kind: cache.Transient}},
		"401 no code":          {&TokenError{StatusCode: 401}, cache.Class{Kind: cache.Transient}},
		"signer":               {&SignerError{Problem: "failed"}, cache.Class{Kind: cache.Transient}},
		"network":              {errors.New("connection reset"), cache.Class{Kind: cache.Transient}},
		"closed during 503":    {closedWith(&TokenError{StatusCode: 503}), cache.Class{Kind: cache.Quick}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, classify(tc.err))
		})
	}
}

func TestSecretNotProjectedIsNotPermanent(t *testing.T) {
	te := &TokenError{StatusCode: 400, Code: "invalid_request", Description: "Errors.User.Machine.Secret.NotExisting"}
	assert.False(t, te.Permanent())
	assert.True(t, (&TokenError{StatusCode: 400, Code: "invalid_request", Description: "Errors.User.Machine.Secret.Invalid"}).Permanent())
}

// zitadelAnswer writes a token endpoint answer: a token, or an OAuth error.
func zitadelAnswer(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status == http.StatusOK {
		fmt.Fprint(w, `{"access_token":"at","token_type":"Bearer","expires_in":43199}`)
		return
	}
	fmt.Fprintf(w, `{"error":%q,"error_description":%q}`, code, description)
}

// inProcessSource is a key-file source whose token endpoint is h, called in-process.
func inProcessSource(t *testing.T, h http.HandlerFunc) *TokenSource {
	cfg := Config{Key: testKeyFile(t), Issuer: "https://zitadel.example.com", TokenURL: "https://zitadel.example.com/oauth/v2/token",
		HTTPClient: newInProcess(h).client()}
	return cfg.TokenSource(context.Background())
}

// TestRetryAfterCappedAtBackoffCeiling: one answer with Retry-After: 3600 (a
// proxy's maintenance page) locks callers out for at most the backoff
// ceiling once the endpoint has recovered.
func TestRetryAfterCappedAtBackoffCeiling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var requests atomic.Int32
		endpoint := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if requests.Add(1) == 1 {
				w.Header().Set("Retry-After", "3600")
				http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"at","token_type":"Bearer","expires_in":43199}`)
		})
		ts := inProcessSource(t, endpoint)
		defer ts.Close()

		_, err := ts.Token()
		var te *TokenError
		require.ErrorAs(t, err, &te)
		require.Equal(t, time.Hour, te.RetryAfter)

		time.Sleep(cache.BackoffMax)
		tok, err := ts.Token()
		require.NoError(t, err, "still locked out %v after the failure", cache.BackoffMax)
		assert.Equal(t, "at", tok.AccessToken)
		assert.EqualValues(t, 2, requests.Load())
	})
}

// TestRetryAfterSpreadsAFleet: sources told "Retry-After: 1" come back after
// at least a second, but not all in the same moment.
func TestRetryAfterSpreadsAFleet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		var retries []time.Duration
		var wg sync.WaitGroup
		for range 50 {
			n := 0
			h := func(w http.ResponseWriter, r *http.Request) {
				if n++; n == 1 {
					w.Header().Set("Retry-After", "1")
					zitadelAnswer(w, http.StatusTooManyRequests, "", "")
					return
				}
				mu.Lock()
				retries = append(retries, time.Since(start))
				mu.Unlock()
				zitadelAnswer(w, http.StatusOK, "", "")
			}
			ts := inProcessSource(t, h)
			wg.Go(func() {
				defer ts.Close()
				for _, err := ts.Token(); err != nil; _, err = ts.Token() {
					time.Sleep(10 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		require.Len(t, retries, 50)
		slices.Sort(retries)
		t.Logf("retries between %v and %v", retries[0], retries[len(retries)-1])
		assert.GreaterOrEqual(t, retries[0], time.Second, "Retry-After honoured")
		assert.Greater(t, retries[len(retries)-1]-retries[0], 500*time.Millisecond, "retries spread")
	})
}

// TestFreshKeyWorksOnFirstCall: ZITADEL refuses a key made moments ago with
// 500 Errors.Internal until its projection catches up; a service started
// right after the key was made gets a token on its first call.
func TestFreshKeyWorksOnFirstCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const sources = 100
		ok, requests := 0, 0
		for range sources {
			created := time.Now()
			h := func(w http.ResponseWriter, r *http.Request) {
				requests++
				if time.Since(created) < 50*time.Millisecond {
					zitadelAnswer(w, http.StatusInternalServerError, "server_error", "Errors.Internal")
					return
				}
				zitadelAnswer(w, http.StatusOK, "", "")
			}
			time.Sleep(rand.N(40 * time.Millisecond)) // the service starts soon after
			ts := inProcessSource(t, h)
			if _, err := ts.Token(); err == nil {
				ok++
			}
			ts.Close()
		}
		t.Logf("%d of %d first calls got a token, %d requests", ok, sources, requests)
		assert.Equal(t, sources, ok, "first calls that got a token")
		assert.LessOrEqual(t, requests, 4*sources)
	})
}

// TestFreshSecretWorksOnFirstCall: a client secret made a moment ago is
// refused with 400 Errors.User.Machine.Secret.NotExisting; it must not lock
// the source out for minutes, and a first call made within a second of its
// creation gets a token.
func TestFreshSecretWorksOnFirstCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		created := time.Now()
		var requests atomic.Int32
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			if time.Since(created) < time.Second {
				zitadelAnswer(w, http.StatusBadRequest, "invalid_request", "Errors.User.Machine.Secret.NotExisting")
				return
			}
			zitadelAnswer(w, http.StatusOK, "", "")
		})
		cfg := ClientCredentialsConfig{ClientID: "machine", ClientSecret: Secret("s3cret"), Issuer: "https://zitadel.example.com",
			TokenURL: "https://zitadel.example.com/oauth/v2/token", HTTPClient: newInProcess(h).client()}
		ts := cfg.TokenSource(context.Background())
		defer ts.Close()
		tok, err := ts.Token()
		require.NoError(t, err)
		assert.Equal(t, "at", tok.AccessToken)
		took := time.Since(created)
		t.Logf("token after %v and %d requests", took, requests.Load())
		assert.LessOrEqual(t, took, 3*time.Second)
	})
}

// TestPermanentErrorBacksOffFromSeconds: an error that needs a change (a
// deactivated user) is retried after seconds, then less and less often,
// never first after minutes.
func TestPermanentErrorBacksOffFromSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var times []time.Time
		h := func(w http.ResponseWriter, r *http.Request) {
			times = append(times, time.Now())
			zitadelAnswer(w, http.StatusBadRequest, "invalid_request", "Errors.User.NotActive")
		}
		ts := inProcessSource(t, h)
		defer ts.Close()
		for end := time.Now().Add(10 * time.Minute); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			_, err := ts.Token()
			require.Error(t, err)
		}
		require.Greater(t, len(times), 2)
		var gaps []time.Duration
		for i := 1; i < len(times); i++ {
			gaps = append(gaps, times[i].Sub(times[i-1]).Round(100*time.Millisecond))
		}
		t.Logf("%d requests in 10 min, gaps %v", len(times), gaps)
		assert.LessOrEqual(t, gaps[0], 2*time.Second+100*time.Millisecond, "first retry after seconds")
		for i, g := range gaps {
			assert.LessOrEqual(t, g, min(cache.BackoffMax, 2*time.Second<<i)+100*time.Millisecond, "gap %d", i)
		}
		assert.GreaterOrEqual(t, len(times), 10, "retried while it fails")
	})
}
