package answer

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/hint"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var sentAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	assert.Equal(t, time.Duration(0), ParseRetryAfter("", sentAt))
	assert.Equal(t, 3*time.Second, ParseRetryAfter(" 3 ", sentAt))
	assert.Equal(t, time.Duration(0), ParseRetryAfter("soon", sentAt))
	assert.Equal(t, time.Duration(0), ParseRetryAfter(sentAt.Add(-time.Minute).Format(http.TimeFormat), sentAt))
	assert.Equal(t, time.Hour, ParseRetryAfter("99999999", sentAt), "capped")
	assert.Equal(t, 2*time.Minute, ParseRetryAfter(sentAt.Add(2*time.Minute).Format(http.TimeFormat), sentAt))
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// answering is a caller whose every request gets status and body.
func answering(status int, body string, header ...string) *httpcall.Caller {
	return httpcall.New(&http.Client{Transport: roundTripperFunc(func(*http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		for i := 0; i+1 < len(header); i += 2 {
			rec.Header().Set(header[i], header[i+1])
		}
		rec.WriteHeader(status)
		io.WriteString(rec, body)
		return rec.Result(), nil
	})}, time.Minute)
}

var form = httpcall.Form{URL: "https://zitadel.example/oauth/v2/token", Values: url.Values{"grant_type": {"g"}}}

// TestPostAnswer: an answer comes back with its body, the grant of the form,
// the secrets to remove and the time it was sent.
func TestPostAnswer(t *testing.T) {
	a, failed := Post(context.Background(), answering(400, `{"error":"invalid_grant"}`), hint.EndpointToken, form, []string{"s"})
	require.Nil(t, failed)
	assert.Equal(t, 400, a.Resp.StatusCode)
	assert.Equal(t, `{"error":"invalid_grant"}`, string(a.Body))
	assert.Equal(t, "g", a.Grant)
	assert.Equal(t, []string{"s"}, a.Secrets)
	assert.Equal(t, hint.EndpointToken, a.Endpoint)
	assert.WithinDuration(t, time.Now(), a.Sent, time.Minute)
	assert.Equal(t, a.Sent.Round(0), a.Sent, "the wall clock, as expiry is")
}

// TestPostWithoutAnswer: no answer, or one whose body is too large to read,
// is the endpoint's error, without a hint.
func TestPostWithoutAnswer(t *testing.T) {
	down := httpcall.New(&http.Client{Transport: roundTripperFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("connection refused")
	})}, time.Minute)
	_, failed := Post(context.Background(), down, hint.EndpointIntrospection, form, nil)
	require.NotNil(t, failed)
	assert.Equal(t, Error{Endpoint: hint.EndpointIntrospection, Err: failed.Err}, *failed)
	assert.ErrorContains(t, failed.Err, "connection refused")

	huge := answering(200, strings.Repeat("x", httpcall.MaxResponseSize+1))
	_, failed = Post(context.Background(), huge, hint.EndpointToken, form, nil)
	require.NotNil(t, failed)
	assert.Equal(t, 200, failed.StatusCode)
	assert.Empty(t, failed.Hint)
	var re *oauth2.RetrieveError
	assert.ErrorAs(t, failed.Err, &re)
}

// TestParseRedactsAndExplains: an error answer's secrets and tokens are
// removed everywhere the error keeps them, the description is bounded, and
// the hint is chosen by endpoint on the whole description.
func TestParseRedactsAndExplains(t *testing.T) {
	long := "Instance not found " + strings.Repeat("d", 1000)
	body := `{"error":"invalid_request","error_description":"sent-secret ` + long + `","access_token":"leaked-token"}`
	a, failed := Post(context.Background(), answering(400, body, "Retry-After", "7"), hint.EndpointIntrospection, form, []string{"sent-secret"})
	require.Nil(t, failed)
	e := a.Parse()
	assert.Equal(t, 400, e.StatusCode)
	assert.Equal(t, "invalid_request", e.Code)
	assert.Len(t, e.Description, MaxDescription)
	assert.Equal(t, 7*time.Second, e.RetryAfter)
	assert.Contains(t, e.Hint, "instance by host name")
	var re *oauth2.RetrieveError
	require.ErrorAs(t, e.Err, &re)
	for _, kept := range []string{e.Description, re.ErrorDescription, string(re.Body)} {
		assert.NotContains(t, kept, "sent-secret")
		assert.NotContains(t, kept, "leaked-token")
	}
	assert.Nil(t, re.Response.Request, "the request held the credentials")
}
