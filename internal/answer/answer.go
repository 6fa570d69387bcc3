package serviceuser

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// maxRetryAfter caps what is kept of a server's Retry-After; the retry
// schedule caps it further (see retryDelay).
const maxRetryAfter = time.Hour

// maxExcerpt bounds what an error keeps of a plain-text answer.
const maxExcerpt = 200

// answer is an endpoint's answer, body read, with what building its error needs.
type answer struct {
	endpoint string // EndpointToken, EndpointUserinfo or EndpointIntrospection
	grant    string // the token request's grant type; "" for other endpoints
	resp     *http.Response
	body     []byte
	secrets  []string // removed from anything the error keeps
}

// error turns the answer into a *TokenError that unwraps to
// *oauth2.RetrieveError. description, when set, replaces the server's (for a
// malformed success answer); now reads a Retry-After date.
func (a answer) error(tr *tokenResponse, description string, now time.Time) *TokenError {
	secrets := append(a.secrets[:len(a.secrets):len(a.secrets)], tr.AccessToken, tr.IDToken) // a refused answer may still carry tokens
	code, desc := tr.Error, tr.ErrorDescription
	if description != "" {
		desc = description
	}
	if code == "" && desc == "" {
		desc = textExcerpt(a.resp, a.body)
		if desc == "" {
			desc = http.StatusText(a.resp.StatusCode)
		}
	}
	desc = redact(desc, secrets...)
	re := &oauth2.RetrieveError{
		Response:         withoutRequest(a.resp, secrets...),
		Body:             []byte(redact(string(a.body), secrets...)),
		ErrorCode:        code,
		ErrorDescription: desc,
		ErrorURI:         tr.ErrorURI,
	}
	return &TokenError{
		Endpoint:    a.endpoint,
		StatusCode:  a.resp.StatusCode,
		Code:        code,
		Description: truncate(desc, 300),
		RetryAfter:  parseRetryAfter(a.resp.Header.Get("Retry-After"), now),
		Hint:        hintFor(a.endpoint, a.grant, a.resp.StatusCode, code, desc),
		Err:         re,
	}
}

// endpointError turns an error answer of any endpoint into a *TokenError.
func endpointError(a answer) *TokenError {
	var tr tokenResponse
	_ = json.Unmarshal(a.body, &tr) // a body that is not an OAuth error still gives status and hint
	return a.error(&tr, "", time.Now())
}

// networkError is the error of a request that got no usable answer: none at
// all (resp is nil) or one whose body could not be read.
func networkError(endpoint string, resp *http.Response, err error) error {
	if resp == nil {
		return &TokenError{Endpoint: endpoint, Err: err}
	}
	return &TokenError{Endpoint: endpoint, StatusCode: resp.StatusCode, Description: err.Error(),
		Err: &oauth2.RetrieveError{Response: withoutRequest(resp)}}
}

// textExcerpt returns the first line of a plain-text answer, shortened, such
// as ZITADEL's "Instance not found" for a request to an unknown host; ""
// for other answers (HTML pages say little and much).
func textExcerpt(resp *http.Response, body []byte) string {
	media, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if media != "text/plain" || !utf8.Valid(body) {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	return truncate(strings.TrimSpace(line), maxExcerpt)
}

// withoutRequest drops the request, whose body held the assertion, from a
// response kept in an error, and redacts its status line and headers, which
// a server may echo credentials into as well.
func withoutRequest(resp *http.Response, secrets ...string) *http.Response {
	r := *resp
	r.Request, r.Body = nil, http.NoBody
	r.Status = redact(r.Status, secrets...)
	r.Header = redactHeader(r.Header, secrets)
	r.Trailer = redactHeader(r.Trailer, secrets)
	return &r
}

// parseRetryAfter reads delay-seconds or an HTTP-date, capped at maxRetryAfter.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(min(max(secs, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
