package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/answer"
	"github.com/go-serviceuser/serviceuser/internal/hint"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var sentAt = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func answered(status int) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{}}
}

// parse reads body, the answer to a request sent at sentAt, as Post does.
func parse(resp *http.Response, body []byte, sentAt time.Time) (*oauth2.Token, *answer.Error) {
	return Parse(answer.Answer{Endpoint: hint.EndpointToken, Resp: resp, Body: body, Sent: sentAt})
}

func TestParseSuccess(t *testing.T) {
	cases := map[string]struct {
		body     string
		lifetime time.Duration
	}{
		"ZITADEL":              {`{"access_token":"at","token_type":"Bearer","expires_in":43199,"id_token":"x.y.z"}`, 43199 * time.Second},
		"expires_in as string": {`{"access_token":"at","token_type":"bearer","expires_in":"3600"}`, time.Hour},
		"expires_in fraction":  {`{"access_token":"at","token_type":"Bearer","expires_in":59.9}`, 59 * time.Second},
		"no expires_in":        {`{"access_token":"at","token_type":"Bearer"}`, FallbackLifetime},
		"expires_in zero":      {`{"access_token":"at","token_type":"Bearer","expires_in":0}`, FallbackLifetime},
		"expires_in null":      {`{"access_token":"at","token_type":"Bearer","expires_in":null}`, FallbackLifetime},
		"expires_in huge":      {`{"access_token":"at","token_type":"Bearer","expires_in":1e300}`, MaxLifetime},
		"expires_in overflow":  {`{"access_token":"at","token_type":"Bearer","expires_in":1e999}`, MaxLifetime},
		"no token_type":        {`{"access_token":"at","expires_in":60}`, time.Minute},
		"surrounding space":    {"\n {\"access_token\":\"at\",\"expires_in\":60} \n", time.Minute},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tok, failed := parse(answered(200), []byte(tc.body), sentAt)
			require.Nil(t, failed)
			assert.Equal(t, "at", tok.AccessToken)
			assert.Equal(t, "Bearer", tok.TokenType)
			assert.Equal(t, sentAt.Add(tc.lifetime), tok.Expiry)
		})
	}
}

func TestParseKeepsIDToken(t *testing.T) {
	tok, failed := parse(answered(200), []byte(`{"access_token":"at","expires_in":60,"id_token":"a.b.c","scope":"openid"}`), sentAt)
	require.Nil(t, failed)
	assert.Equal(t, "a.b.c", tok.Extra("id_token"))
	assert.Equal(t, "openid", tok.Extra("scope"))
}

func TestParseRefusesUnsendableToken(t *testing.T) {
	for name, token := range map[string]string{
		"CRLF":           "SENTINEL-TOKEN-a1\r\nX-Injected: 1",
		"LF":             "SENTINEL-TOKEN-a1\n",
		"space":          "SENTINEL TOKEN-a1",
		"tab":            "SENTINEL-TOKEN-a1\t",
		"quote":          `SENTINEL-TOKEN-a1"`,
		"comma":          "SENTINEL-TOKEN-a1,x",
		"NUL":            "SENTINEL-TOKEN-a1\x00",
		"non-ASCII":      "SENTINEL-TOKEN-a1é",
		"= in the midst": "SENTINEL=TOKEN-a1",
		"only =":         "==",
	} {
		t.Run(name, func(t *testing.T) {
			body, err := json.Marshal(map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 60})
			require.NoError(t, err)
			tok, failed := parse(answered(200), body, sentAt)
			assert.Nil(t, tok)
			require.NotNil(t, failed)
			assert.Equal(t, 200, failed.StatusCode)
			assert.Contains(t, failed.Description, "malformed token response")
			assert.Contains(t, failed.Description, "b64token")
			var re *oauth2.RetrieveError
			require.ErrorAs(t, failed.Err, &re)
			for _, text := range []string{fmt.Sprintf("%v %+v %#v", *failed, *failed, *failed), re.Error(), string(re.Body)} {
				assert.NotContains(t, text, "SENTINEL")
			}
		})
	}
	for _, token := range []string{"at", "a-b.c_d~e+f/g", "abc==", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"} {
		body := `{"access_token":"` + token + `","expires_in":60}`
		tok, failed := parse(answered(200), []byte(body), sentAt)
		require.Nil(t, failed, token)
		assert.Equal(t, token, tok.AccessToken)
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestPost: the request carries the form and, when set, HTTP Basic with each
// part form-URL-encoded; a refusal keeps none of the request's secrets.
func TestPost(t *testing.T) {
	const secret = "s3cret:/+"
	var got *http.Request
	var form url.Values
	answer := `{"access_token":"at","expires_in":60}`
	c := httpcall.New(&http.Client{Transport: roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		body, _ := io.ReadAll(r.Body)
		got, form = r, must(url.ParseQuery(string(body)))
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(answer)), Request: r}, nil
	})}, time.Second)
	req := Request{URL: "https://zitadel.example/oauth/v2/token", Form: url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}},
		BasicUser: "machine user", BasicPassword: secret, Secrets: []string{secret, url.QueryEscape(secret)}}
	tok, failed := Post(context.Background(), c, req)
	require.Nil(t, failed)
	assert.Equal(t, "at", tok.AccessToken)
	assert.Equal(t, http.MethodPost, got.Method)
	assert.Equal(t, "openid", form.Get("scope"))
	user, password, ok := got.BasicAuth()
	require.True(t, ok)
	assert.Equal(t, url.QueryEscape("machine user"), user)
	assert.Equal(t, url.QueryEscape(secret), password)

	answer = `{"error":"invalid_client","error_description":"wrong secret ` + url.QueryEscape(secret) + `"}`
	tok, failed = Post(context.Background(), c, req)
	assert.Nil(t, tok)
	require.NotNil(t, failed)
	assert.Equal(t, hint.EndpointToken, failed.Endpoint)
	assert.Equal(t, "invalid_client", failed.Code)
	assert.NotContains(t, fmt.Sprintf("%+v", *failed), url.QueryEscape(secret))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
