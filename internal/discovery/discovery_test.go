package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-serviceuser/serviceuser/internal/httpcall"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const issuer = "https://zitadel.example"

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestDiscoveryWaitEndsWithCallerContext: a caller that gives up is not held
// behind another caller's discovery request.
func TestDiscoveryWaitEndsWithCallerContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var requests atomic.Int32
		rt := roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			requests.Add(1)
			<-release
			rec := httptest.NewRecorder()
			json.NewEncoder(rec).Encode(Endpoints{Issuer: issuer, TokenURL: issuer + "/oauth/v2/token"})
			return rec.Result(), nil
		})
		fetches := 0
		d := NewCache(httpcall.New(&http.Client{Transport: rt}, time.Hour), issuer, func(e *Error) error { return errors.New(e.Problem) },
			func(context.Context, time.Duration, error) { fetches++ })
		first := make(chan error, 1)
		go func() {
			_, err := d.Endpoints(context.Background())
			first <- err
		}()
		synctest.Wait() // the first caller's request is in flight

		ctx, cancel := context.WithCancel(context.Background())
		second := make(chan error, 1)
		go func() {
			_, err := d.Endpoints(ctx)
			second <- err
		}()
		synctest.Wait()
		cancel()
		synctest.Wait()
		select {
		case err := <-second:
			assert.ErrorIs(t, err, context.Canceled)
		default:
			t.Error("a cancelled caller still waits for another caller's discovery")
		}
		close(release)
		assert.NoError(t, <-first)
		assert.EqualValues(t, 1, requests.Load())
		assert.Equal(t, 1, fetches, "done is told of the one fetch")
		_, err := d.Endpoints(context.Background())
		assert.NoError(t, err)
		assert.EqualValues(t, 1, requests.Load(), "the endpoints are kept")
	})
}

// serving answers every request with status, content type and body.
func serving(status int, contentType, body string) *httpcall.Caller {
	return httpcall.New(&http.Client{Transport: roundTripperFunc(func(*http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Type", contentType)
		rec.WriteHeader(status)
		rec.WriteString(body)
		return rec.Result(), nil
	})}, time.Minute)
}

// TestFetchNamesOtherIssuer: a document of another issuer names it in
// OtherIssuer, one line and without user info; a JSON page without an
// issuer is not another issuer's.
func TestFetchNamesOtherIssuer(t *testing.T) {
	_, e := Fetch(context.Background(), serving(200, "application/json", `{"issuer":"https://u:p@other.example\n"}`), issuer)
	require.NotNil(t, e)
	assert.Equal(t, `https://[redacted]@other.example\n`, e.OtherIssuer)
	_, e = Fetch(context.Background(), serving(200, "application/json", `{"status":"starting"}`), issuer)
	require.NotNil(t, e)
	assert.Empty(t, e.OtherIssuer)
}

// TestFetchExplainsStatus: an answer other than 200 is explained, with
// ZITADEL's own text for an unknown host and nothing of a proxy's page.
func TestFetchExplainsStatus(t *testing.T) {
	_, e := Fetch(context.Background(), serving(404, "text/plain", "Instance not found\n"), issuer)
	require.NotNil(t, e)
	assert.Equal(t, 404, e.StatusCode)
	assert.Contains(t, e.Problem, "HTTP 404: Instance not found (ZITADEL picks the instance by host name")
	_, e = Fetch(context.Background(), serving(502, "text/plain", "secret proxy page"), issuer)
	require.NotNil(t, e)
	assert.Equal(t, "HTTP 502", e.Problem)
}
