// Package answer reads the error answers of ZITADEL's endpoints into neutral
// data, credentials removed; package serviceuser turns it into a TokenError
// with a hint.
package answer

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// maxRetryAfter caps what is kept of a server's Retry-After; the retry
// schedule caps it further.
const maxRetryAfter = time.Hour

// Bounds on what an error keeps of an answer. Every text an answer puts into
// an error is one line (see redact.Line) and bounded: MaxCode for the error
// code, maxKept for the description and the error_uri of the
// *oauth2.RetrieveError, maxExcerpt for a line of plain text or the status.
const (
	MaxCode    = 100
	maxKept    = 2 << 10
	maxExcerpt = 200
)

// Answer is an endpoint's answer, body read, with what building its error needs.
type Answer struct {
	Endpoint string // serviceuser's EndpointToken, EndpointUserinfo or EndpointIntrospection
	Grant    string // the token request's grant type; "" for other endpoints
	Resp     *http.Response
	Body     []byte
	Secrets  []string // removed from anything the error keeps
}

// Fields are the error members of an OAuth answer (RFC 6749 section 5.2).
type Fields struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorURI         string `json:"error_uri"`
}

// Error is what a failed request says, without credentials: the fields of
// serviceuser.TokenError but the hint.
type Error struct {
	Endpoint, Grant string
	StatusCode      int
	// Code is one line of at most MaxCode bytes.
	Code string
	// Description is redacted and one line, not shortened to what
	// serviceuser.TokenError keeps: hints look at all of it.
	Description string
	RetryAfter  time.Duration
	Err         error
	// Date is the answer's Date header (the server's clock) and Now when
	// the request was sent, for a hint about clock drift.
	Date string
	Now  time.Time
	// Answered is true when the endpoint's answer was read, so that a hint
	// may explain it.
	Answered bool
}

// Error reads the answer, whose error members are f, into an *Error whose
// Err is an *oauth2.RetrieveError. tokens are what the answer may still
// carry, removed too; description, when set, replaces the server's (for a
// malformed success answer); now reads a Retry-After date.
//
// The code, description and error_uri, in the Error and in the
// RetrieveError alike, are one line each and bounded, so that neither
// TokenError.Error nor x/oauth2's RetrieveError.Error lets a server forge a
// log line or fill a log; a code or description as ZITADEL sends them is
// unchanged. The RetrieveError's Body is the body as sent, credentials
// removed and at most 2 KiB, for code that parses it.
func (a Answer) Error(f Fields, tokens []string, description string, now time.Time) *Error {
	secrets := append(a.Secrets[:len(a.Secrets):len(a.Secrets)], tokens...)
	code, desc := f.Error, f.ErrorDescription
	if description != "" {
		desc = description
	}
	if code == "" && desc == "" {
		desc = TextExcerpt(a.Resp, a.Body)
		if desc == "" {
			desc = http.StatusText(a.Resp.StatusCode)
		}
	}
	code = redact.Line(redact.String(code, secrets...), MaxCode)
	desc = redact.Line(redact.String(desc, secrets...), maxKept)
	re := &oauth2.RetrieveError{
		Response:         WithoutRequest(a.Resp, secrets...),
		Body:             []byte(redact.String(string(a.Body), secrets...)),
		ErrorCode:        code,
		ErrorDescription: desc,
		ErrorURI:         redact.Line(redact.String(f.ErrorURI, secrets...), maxKept),
	}
	return &Error{Endpoint: a.Endpoint, Grant: a.Grant, StatusCode: a.Resp.StatusCode, Code: code, Description: desc,
		RetryAfter: ParseRetryAfter(a.Resp.Header.Get("Retry-After"), now), Err: re,
		Date: a.Resp.Header.Get("Date"), Now: now, Answered: true}
}

// Parse reads an error answer of any endpoint; a body that is not an OAuth
// error still gives the status.
func (a Answer) Parse() *Error {
	var v struct {
		Fields
		AccessToken string `json:"access_token"` // a refused answer may still carry tokens
		IDToken     string `json:"id_token"`
	}
	_ = json.Unmarshal(a.Body, &v)
	return a.Error(v.Fields, []string{v.AccessToken, v.IDToken}, "", time.Now())
}

// Network is the error of a request that got no usable answer: none at all
// (resp is nil) or one whose body could not be read.
func Network(endpoint string, resp *http.Response, err error) *Error {
	if resp == nil {
		return &Error{Endpoint: endpoint, Err: err}
	}
	return &Error{Endpoint: endpoint, StatusCode: resp.StatusCode, Description: redact.Line(err.Error(), maxKept),
		Err: &oauth2.RetrieveError{Response: WithoutRequest(resp)}}
}

// TextExcerpt returns the first line of a plain-text answer as one line
// (see redact.Line), shortened, such as ZITADEL's "Instance not found" for a
// request to an unknown host; "" for other answers (HTML pages say little
// and much).
func TextExcerpt(resp *http.Response, body []byte) string {
	media, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if media != "text/plain" || !utf8.Valid(body) {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	return redact.Line(strings.TrimSpace(line), maxExcerpt)
}

// WithoutRequest drops the request, whose body held the assertion, from a
// response kept in an error, and redacts its status line (kept as one line:
// x/oauth2's RetrieveError.Error shows it) and headers, which a server may
// echo credentials into as well.
func WithoutRequest(resp *http.Response, secrets ...string) *http.Response {
	r := *resp
	r.Request, r.Body = nil, http.NoBody
	r.Status = redact.Line(redact.String(r.Status, secrets...), maxExcerpt)
	r.Header = redact.Header(r.Header, secrets)
	r.Trailer = redact.Header(r.Trailer, secrets)
	return &r
}

// ParseRetryAfter reads delay-seconds or an HTTP-date, capped at an hour.
func ParseRetryAfter(v string, now time.Time) time.Duration {
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
