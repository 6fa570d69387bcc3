package serviceuser

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/answer"
)

var sentAt = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func response(status int, headers ...string) *http.Response {
	h := http.Header{}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Set(headers[i], headers[i+1])
	}
	return &http.Response{StatusCode: status, Header: h}
}

func TestParseTokenResponseErrors(t *testing.T) {
	cases := map[string]struct {
		resp       *http.Response
		body       string
		code, desc string
		retryAfter time.Duration
		permanent  bool
	}{
		"invalid_grant":          {response(400), `{"error":"invalid_grant","error_description":"assertion invalid"}`, "invalid_grant", "assertion invalid", 0, true},
		"Errors.Internal":        {response(500), `{"error":"server_error","error_description":"Errors.Internal"}`, "server_error", "Errors.Internal", 0, false},
		"error on 200":           {response(200), `{"error":"invalid_scope"}`, "invalid_scope", "", 0, true},
		"HTML 502":               {response(502), `<html><body>Bad Gateway</body></html>`, "", "Bad Gateway", 0, false},
		"HTML on 200":            {response(200), `<html>login</html>`, "", "malformed token response: not a JSON object", 0, false},
		"truncated JSON":         {response(200), `{"access_token":"at","expi`, "", "malformed token response: not a JSON object", 0, false},
		"empty 200":              {response(200), ``, "", "malformed token response: not a JSON object", 0, false},
		"JSON array":             {response(200), `[]`, "", "malformed token response: not a JSON object", 0, false},
		"no access_token":        {response(200), `{"token_type":"Bearer","expires_in":60}`, "", "malformed token response: no access_token", 0, false},
		"access_token number":    {response(200), `{"access_token":12}`, "", "malformed token response: not a JSON object", 0, false},
		"token_type DPoP":        {response(200), `{"access_token":"at","token_type":"DPoP"}`, "", `token_type "DPoP" is not Bearer`, 0, false},
		"expires_in negative":    {response(200), `{"access_token":"at","expires_in":-5}`, "", "malformed token response: expires_in -5 is negative", 0, false},
		"expires_in word":        {response(200), `{"access_token":"at","expires_in":"soon"}`, "", `malformed token response: expires_in "soon" is not a number`, 0, false},
		"429 Retry-After secs":   {response(429, "Retry-After", "7"), `{"error":"slow_down"}`, "slow_down", "", 7 * time.Second, false},
		"503 Retry-After date":   {response(503, "Retry-After", sentAt.Add(90*time.Second).Format(http.TimeFormat)), ``, "", "Service Unavailable", 90 * time.Second, false},
		"Retry-After absurd":     {response(503, "Retry-After", "99999999"), ``, "", "Service Unavailable", time.Hour, false},
		"Retry-After negative":   {response(503, "Retry-After", "-3"), ``, "", "Service Unavailable", 0, false},
		"unsupported_grant":      {response(400), `{"error":"unsupported_grant_type"}`, "unsupported_grant_type", "", 0, true},
		"redirect":               {response(302, "Location", "https://elsewhere/"), ``, "", "Found", 0, false},
		"401 invalid_client":     {response(401), `{"error":"invalid_client"}`, "invalid_client", "", 0, true},
		"scope missing (400)":    {response(400), `{"error":"invalid_request","error_description":"scope missing"}`, "invalid_request", "scope missing", 0, true},
		"huge error_description": {response(400), `{"error":"invalid_request","error_description":"` + strings.Repeat("x", 5000) + `"}`, "invalid_request", strings.Repeat("x", 297) + "...", 0, true}, // 300 bytes in all
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tok, err := parseResponse(tc.resp, []byte(tc.body), sentAt)
			require.Error(t, err)
			assert.Nil(t, tok)
			var te *TokenError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tc.resp.StatusCode, te.StatusCode)
			assert.Equal(t, tc.code, te.Code)
			assert.Equal(t, tc.desc, te.Description)
			assert.Equal(t, tc.retryAfter, te.RetryAfter)
			assert.Equal(t, tc.permanent, te.Permanent())
			var re *oauth2.RetrieveError
			require.ErrorAs(t, err, &re, "code written for x/oauth2 must keep working")
			assert.Equal(t, tc.code, re.ErrorCode)
			assert.Equal(t, tc.resp.StatusCode, re.Response.StatusCode)
		})
	}
}

func TestInternalErrorExplainsCommonCauses(t *testing.T) {
	_, err := parseResponse(response(500), []byte(`{"error":"server_error","error_description":"Errors.Internal"}`), sentAt)
	for _, cause := range []string{"clock", "key id", "audience", "trailing slash"} {
		assert.Contains(t, err.Error(), cause)
	}
}

// TestLongestErrorTextKeepsItsHint: the bound on Error's text leaves room
// for the longest code, description and hint (a refused assertion's, with
// the clock drift named): it shortens only text built by hand.
func TestLongestErrorTextKeepsItsHint(t *testing.T) {
	body := fmt.Sprintf(`{"error":%q,"error_description":%q}`, strings.Repeat("c", 500)+"server_error", "Errors.Internal "+strings.Repeat("d", 500))
	date := sentAt.Add(-100 * 365 * 24 * time.Hour).Format(http.TimeFormat)
	_, err := parseResponse(response(500, "Date", date), []byte(body), sentAt)
	var te *TokenError
	require.ErrorAs(t, err, &te)
	require.Contains(t, te.Hint, "clock is")
	require.Contains(t, te.Hint, "ZITADEL answers most rejected assertions this way; usual causes")
	assert.Len(t, te.Code, 100)
	assert.Len(t, te.Description, answer.MaxDescription)
	assert.True(t, strings.HasSuffix(err.Error(), "("+te.Hint+")"), "the hint is whole: %s", err)
	assert.LessOrEqual(t, len(err.Error()), maxErrorText)
}

func TestTokenErrorRedactsSecrets(t *testing.T) {
	assertion := "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ1In0.c2lnbmF0dXJl"
	body := `{"error":"invalid_request","error_description":"bad assertion ` + assertion + `","access_token":"opaque-secret-token"}`
	_, err := parseResponse(response(400), []byte(body), sentAt, assertion)
	var re *oauth2.RetrieveError
	require.True(t, errors.As(err, &re))
	for _, text := range []string{err.Error(), string(re.Body), re.Error(), re.ErrorDescription} {
		assert.NotContains(t, text, assertion)
		assert.NotContains(t, text, "opaque-secret-token")
	}
	assert.Contains(t, string(re.Body), "[redacted]")

	// A body with no error code is what RetrieveError.Error prints in full.
	_, err = parseResponse(response(502), []byte("upstream said: assertion="+assertion), sentAt, assertion)
	require.True(t, errors.As(err, &re))
	assert.NotContains(t, re.Error(), assertion)
}

func TestErrorResponseHeadersAndStatusRedacted(t *testing.T) {
	assertion := "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ1In0.c2lnbmF0dXJl"
	resp := response(400, "X-Echo", "assertion was "+assertion, "WWW-Authenticate", `Bearer realm="z", error="invalid_request"`)
	resp.Status = "400 " + assertion
	resp.Trailer = http.Header{"X-Echo": {"opaque-secret-token"}}
	_, err := parseResponse(resp, []byte(`{"error":"invalid_request"}`), sentAt, assertion, "opaque-secret-token")
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	kept, err := json.Marshal(struct {
		Status          string
		Header, Trailer http.Header
	}{re.Response.Status, re.Response.Header, re.Response.Trailer})
	require.NoError(t, err)
	assert.NotContains(t, string(kept), assertion)
	assert.NotContains(t, string(kept), "opaque-secret-token")
	assert.Equal(t, `Bearer realm="z", error="invalid_request"`, re.Response.Header.Get("WWW-Authenticate"))
	assert.Equal(t, "assertion was [redacted]", re.Response.Header.Get("X-Echo"))
	assert.Equal(t, "assertion was "+assertion, resp.Header.Get("X-Echo"), "the response itself is not changed")
}
