package serviceuserotel_test

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// zitadel is an in-process fake ZITADEL, usable inside a synctest bubble.
func zitadel(t *testing.T) *serviceusertest.Server {
	t.Helper()
	z := serviceusertest.NewServer(serviceusertest.InProcess())
	t.Cleanup(z.Close)
	z.SetTokenLifetime(time.Hour)
	return z
}

// source is a token source for a new service user of z with hooks.
func source(t *testing.T, z *serviceusertest.Server, hk *hooks.Hooks) *serviceuser.TokenSource {
	t.Helper()
	key, err := serviceuser.ParseKeyFile(z.NewServiceUser().KeyFile)
	require.NoError(t, err)
	ts := serviceuser.Config{Key: key, Issuer: z.Issuer(), HTTPClient: z.Client(), Hooks: hk,
		Scopes: []string{"openid", scope.ZitadelAPI}}.TokenSource(t.Context())
	t.Cleanup(func() { require.NoError(t, ts.Close()) })
	return ts
}

func TestATokenSourceIsRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, z := newRig(t), zitadel(t)
		ts := source(t, z, r.hooks)
		_, err := ts.Token()
		require.NoError(t, err)
		require.Equal(t, 1, z.TokenRequests())

		ms := r.collect(t)
		n, _ := counter(t, ms, "serviceuser.token.refreshes", ok, waited)
		assert.Equal(t, int64(1), n, "one token request")
		assert.Equal(t, uint64(1), histogram(t, ms, "serviceuser.token.refresh.duration", ok, waited).Count)
		n, _ = counter(t, ms, "serviceuser.discovery.fetches", ok)
		assert.Equal(t, int64(1), n)
		left, found := gauge(t, ms)
		require.True(t, found, "a token was obtained")
		t.Logf("remaining lifetime of a 1 h token: %v s", left)
		assert.InDelta(t, time.Hour.Seconds(), left, 15, "the token's lifetime less the source's safety margin")
		assert.LessOrEqual(t, left, time.Hour.Seconds())

		spans := r.spans.Ended()
		require.Len(t, spans, 1)
		assert.Equal(t, "serviceuser.token.refresh", spans[0].Name())
		assert.Equal(t, codes.Unset, spans[0].Status().Code)
	})
}

func TestARejectedTokenIsRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, z := newRig(t), zitadel(t)
		ts := source(t, z, r.hooks)
		tok, err := ts.Token()
		require.NoError(t, err)
		z.RevokeToken(tok.AccessToken)
		time.Sleep(time.Minute) // a token is dropped only once it is old enough

		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, z.ManagementURL()+"/orgs/me", nil)
		require.NoError(t, err)
		resp, err := ts.Client().Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, http.StatusOK, resp.StatusCode, "sent again with a new token")

		ms := r.collect(t)
		n, _ := counter(t, ms, "serviceuser.token.rejections", attribute.Int("http.response.status_code", 401),
			attribute.Bool("serviceuser.rejection.invalidate_called", true), attribute.Bool("serviceuser.rejection.retried", true))
		assert.Equal(t, int64(1), n, "%+v", ms["serviceuser.token.rejections"].Data)
	})
}

func TestAFailedTokenRequestIsRecordedWithoutItsText(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, z := newRig(t), zitadel(t)
		z.FailNext(1, serviceusertest.Fault{Status: 400,
			Body: `{"error":"invalid_request","error_description":"` + secret + `"}`})
		ts := source(t, z, r.hooks)
		_, err := ts.Token()
		require.Error(t, err)
		require.Contains(t, err.Error(), secret, "the error's text holds what the server wrote")

		ms := r.collect(t)
		n, found := counter(t, ms, "serviceuser.token.refreshes", failed, waited, tokType,
			attribute.String("serviceuser.endpoint", "token"), attribute.Int("http.response.status_code", 400),
			attribute.String("serviceuser.error.code", "invalid_request"))
		require.True(t, found, "%+v", ms["serviceuser.token.refreshes"].Data)
		assert.Equal(t, int64(1), n)
		_, found = gauge(t, ms)
		assert.False(t, found)

		spans := r.spans.Ended()
		require.Len(t, spans, 1)
		assert.Equal(t, codes.Error, spans[0].Status().Code)
		assert.Equal(t, "*serviceuser.TokenError", spans[0].Status().Description)
		for _, kv := range spans[0].Attributes() {
			assert.NotContains(t, kv.Value.String(), secret)
		}
	})
}
