package serviceuser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// GrantTypeJWTBearer is the RFC 7523 section 2.1 grant type. (The similar
// "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" is not a grant type.)
const GrantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// FallbackTokenLifetime is the lifetime assumed for a token whose response
// has no expires_in: finite, so that such a token is refreshed, not kept forever.
const FallbackTokenLifetime = 15 * time.Minute

// maxTokenLifetime caps expires_in: refreshing earlier than needed is harmless,
// trusting an absurd value is not.
const maxTokenLifetime = 7 * 24 * time.Hour

// maxRetryAfter caps a server's Retry-After.
const maxRetryAfter = time.Hour

// tokenRequest is one request to a token-issuing endpoint.
type tokenRequest struct {
	url  string
	form url.Values
	// basicUser and basicPassword, when set, authenticate the client with
	// HTTP Basic, each part form-URL-encoded as RFC 6749 section 2.3.1 says.
	basicUser, basicPassword string
	// secrets are removed from anything an error keeps of the response.
	secrets []string
}

// exchange POSTs the request's form and parses the answer as a token response.
func (c *caller) exchange(ctx context.Context, tr tokenRequest, now func() time.Time) (*oauth2.Token, error) {
	sentAt := now().Round(0)
	resp, body, err := c.postForm(ctx, tr)
	if err != nil {
		return nil, networkError(resp, err)
	}
	return parseTokenResponse(resp, body, sentAt, tr.secrets...)
}

// postForm sends the request's form and returns the answer, body read.
func (c *caller) postForm(ctx context.Context, tr tokenRequest) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, tr.url, strings.NewReader(tr.form.Encode()))
	if err != nil {
		return nil, nil, fmt.Errorf("bad URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if tr.basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(tr.basicUser), url.QueryEscape(tr.basicPassword))
	}
	return c.do(ctx, req)
}

func networkError(resp *http.Response, err error) error {
	if resp == nil {
		return &TokenError{Err: err}
	}
	return &TokenError{StatusCode: resp.StatusCode, Description: err.Error(),
		Err: &oauth2.RetrieveError{Response: withoutRequest(resp)}}
}

// tokenResponse is RFC 6749's access token response and error response.
type tokenResponse struct {
	AccessToken      string    `json:"access_token"`
	TokenType        string    `json:"token_type"`
	ExpiresIn        expiresIn `json:"expires_in"`
	IDToken          string    `json:"id_token"`
	Scope            string    `json:"scope"`
	Error            string    `json:"error"`
	ErrorDescription string    `json:"error_description"`
	ErrorURI         string    `json:"error_uri"`
}

// expiresIn accepts a JSON number or a numeric string, as some servers send.
type expiresIn struct {
	seconds int64
	set     bool
}

func (e *expiresIn) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	if s == "null" || s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !(errors.Is(err, strconv.ErrRange) && f > 0) {
		return fmt.Errorf("expires_in %q is not a number", truncate(s, 20))
	}
	if f < 0 {
		return fmt.Errorf("expires_in %s is negative", truncate(s, 20))
	}
	e.seconds, e.set = int64(min(f, maxTokenLifetime.Seconds())), true
	return nil
}

// parseTokenResponse turns a token endpoint answer into a token, or into a
// *TokenError that unwraps to *oauth2.RetrieveError. sentAt is when the
// request was sent: the token's lifetime counts from then.
func parseTokenResponse(resp *http.Response, body []byte, sentAt time.Time, secrets ...string) (*oauth2.Token, error) {
	var tr tokenResponse
	jsonErr := json.Unmarshal(bytes.TrimSpace(body), &tr)
	fail := func(description string) error {
		return responseError(resp, body, &tr, description, sentAt, secrets)
	}
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, fail("")
	case jsonErr != nil:
		return nil, fail("malformed token response: " + jsonProblem(jsonErr))
	case tr.Error != "":
		return nil, fail("")
	case tr.AccessToken == "":
		return nil, fail("malformed token response: no access_token")
	case !validBearerToken(tr.AccessToken):
		return nil, fail("malformed token response: access_token is not an RFC 6750 b64token (it holds characters an Authorization header cannot carry)")
	}
	tokenType, err := bearerType(tr.TokenType)
	if err != nil {
		return nil, fail(err.Error())
	}
	lifetime := FallbackTokenLifetime
	if tr.ExpiresIn.set && tr.ExpiresIn.seconds > 0 {
		lifetime = time.Duration(tr.ExpiresIn.seconds) * time.Second
	}
	tok := &oauth2.Token{AccessToken: tr.AccessToken, TokenType: tokenType, Expiry: sentAt.Add(lifetime), ExpiresIn: int64(lifetime / time.Second)}
	return tok.WithExtra(map[string]any{"id_token": tr.IDToken, "scope": tr.Scope}), nil
}

// jsonProblem describes a JSON error without quoting the input.
func jsonProblem(err error) string {
	if strings.Contains(err.Error(), "expires_in") {
		return err.Error()
	}
	return "not a JSON object"
}

// bearerType accepts "Bearer" in any case, and an absent token_type.
func bearerType(t string) (string, error) {
	if t == "" || strings.EqualFold(t, "bearer") {
		return "Bearer", nil
	}
	return "", fmt.Errorf("token_type %q is not Bearer", truncate(t, 20))
}

func responseError(resp *http.Response, body []byte, tr *tokenResponse, description string, now time.Time, secrets []string) *TokenError {
	secrets = append(secrets[:len(secrets):len(secrets)], tr.AccessToken, tr.IDToken) // a refused answer may still carry tokens
	code, desc := tr.Error, tr.ErrorDescription
	if description != "" {
		desc = description
	}
	desc = redact(desc, secrets...)
	if code == "" && desc == "" {
		desc = http.StatusText(resp.StatusCode)
	}
	re := &oauth2.RetrieveError{
		Response:         withoutRequest(resp, secrets...),
		Body:             []byte(redact(string(body), secrets...)),
		ErrorCode:        code,
		ErrorDescription: desc,
		ErrorURI:         tr.ErrorURI,
	}
	return &TokenError{
		StatusCode:  resp.StatusCode,
		Code:        code,
		Description: truncate(desc, 300),
		RetryAfter:  parseRetryAfter(resp.Header.Get("Retry-After"), now),
		Hint:        hintFor(resp.StatusCode, code, desc),
		Err:         re,
	}
}

// endpointError turns an error answer of any endpoint into a *TokenError.
func endpointError(resp *http.Response, body []byte, endpoint string, now time.Time, secrets ...string) *TokenError {
	var tr tokenResponse
	_ = json.Unmarshal(body, &tr) // a body that is not an OAuth error still gives status and hint
	te := responseError(resp, body, &tr, "", now, secrets)
	te.endpoint = endpoint
	return te
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
