package serviceuser_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// tokenRequestTimes records when each token request was sent.
type tokenRequestTimes struct {
	next  http.RoundTripper
	mu    sync.Mutex
	times []time.Time
}

func (r *tokenRequestTimes) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost {
		r.mu.Lock()
		r.times = append(r.times, time.Now())
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

func (r *tokenRequestTimes) list() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.times...)
}

// newUserConfig starts an in-process fake whose users trail their keys by
// userLag, and returns a Config of a user made just now.
func newUserConfig(t *testing.T, userLag time.Duration) (*serviceusertest.Server, serviceuser.Config, *tokenRequestTimes) {
	t.Helper()
	srv := serviceusertest.NewServer(serviceusertest.InProcess())
	t.Cleanup(srv.Close)
	srv.SetProjectionDelay(20 * time.Millisecond)
	srv.SetUserProjectionLag(userLag)
	key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
	require.NoError(t, err)
	rec := &tokenRequestTimes{next: srv.Transport()}
	return srv, serviceuser.Config{Key: key, Issuer: srv.Issuer(), HTTPClient: &http.Client{Transport: rec}}, rec
}

// TestBrandNewUserWorksOnFirstCall: ZITADEL now and then answers a
// brand-new user's first token requests with 404 invalid_request
// Errors.User.NotFound (its user projection trails its key's); a service
// started right after the user was made gets a token on its first call.
func TestBrandNewUserWorksOnFirstCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, cfg, rec := newUserConfig(t, 100*time.Millisecond)
		start := time.Now()
		ts := cfg.TokenSource(t.Context())
		defer ts.Close()
		_, err := ts.Token()
		require.NoError(t, err)
		took := time.Since(start)
		t.Logf("token after %v and %d requests", took, len(rec.list()))
		notFound := 0
		for _, rej := range srv.Rejections() {
			if errors.Is(rej, serviceusertest.ErrUserNotFound) {
				notFound++
			}
		}
		assert.Positive(t, notFound, "the fake answered Errors.User.NotFound at first")
		assert.LessOrEqual(t, took, time.Second)
	})
}

// TestUserNotFoundHint: the hint of ZITADEL's Errors.User.NotFound names
// the projection lag and, for when it persists, a user that does not exist;
// it is not the "wrong URL" of other 404 answers, and not permanent.
func TestUserNotFoundHint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, cfg, _ := newUserConfig(t, time.Hour)
		time.Sleep(time.Second) // the key is visible, the user is not
		_, err := cfg.Token(t.Context())
		var te *serviceuser.TokenError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, http.StatusNotFound, te.StatusCode)
		assert.Equal(t, "invalid_request", te.Code)
		assert.Equal(t, "Errors.User.NotFound", te.Description)
		assert.Contains(t, te.Hint, "made a moment ago is not visible")
		assert.Contains(t, te.Hint, "does not exist on this instance")
		assert.NotContains(t, te.Hint, "wrong URL")
		assert.False(t, te.Permanent(), "it heals once the user is projected")
	})
}

// TestUnknownUserBacksOff: a user that stays unknown is retried quickly
// within the first caller's wait, which then gets the error with its hint,
// and afterwards probed at most every 5–10 s while callers keep waiting.
func TestUnknownUserBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, cfg, rec := newUserConfig(t, 24*time.Hour)
		ts := cfg.TokenSource(t.Context())
		defer ts.Close()
		start := time.Now()
		_, err := ts.Token()
		var te *serviceuser.TokenError
		require.ErrorAs(t, err, &te)
		assert.Contains(t, te.Hint, "does not exist on this instance")
		first := len(rec.list())
		t.Logf("first call: error after %v and %d requests", time.Since(start), first)
		assert.Greater(t, first, 2, "retried within the caller's wait")
		assert.LessOrEqual(t, time.Since(start), 5*time.Second)

		for end := start.Add(10 * time.Minute); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			_, err := ts.Token()
			require.Error(t, err)
		}
		times := rec.list()
		t.Logf("%d requests in 10 min", len(times))
		for i := first; i < len(times); i++ {
			assert.GreaterOrEqual(t, times[i].Sub(times[i-1]), 5*time.Second, "gap before request %d", i)
		}
		assert.LessOrEqual(t, len(times), first+10*60/5)
	})
}
