// Package answer makes the token and introspection requests to ZITADEL and
// reads their error answers into an Error, credentials removed and a hint
// added: the fields of serviceuser.TokenError, which packages serviceuser
// and introspection convert it to.
package answer

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/hint"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// maxRetryAfter caps what is kept of a server's Retry-After; the retry
// schedule caps it further.
const maxRetryAfter = time.Hour

// Bounds on what an error keeps of an answer. Every text an answer puts into
// an error is one line (see redact.Line) and bounded: MaxCode for the error
// code, MaxDescription for the Error's description, maxKept for the
// description and the error_uri of the *oauth2.RetrieveError (hints look at
// all of it), maxExcerpt for a line of plain text or the status.
const (
	MaxCode        = 100
	MaxDescription = 300
	maxKept        = 2 << 10
	maxExcerpt     = 200
)

// Answer is an endpoint's answer, body read, with what building its error needs.
type Answer struct {
	Endpoint string // hint.EndpointToken, hint.EndpointUserinfo or hint.EndpointIntrospection
	Grant    string // the token request's grant type; "" for other endpoints
	Resp     *http.Response
	Body     []byte
	Secrets  []string // removed from anything the error keeps
	// Sent is when the request was sent: a token's lifetime counts from
	// then, and a Retry-After date and the server's Date header are read
	// against it. Zero means when the answer is read.
	Sent time.Time
}

// Post sends f to endpoint (hint.EndpointToken or
// hint.EndpointIntrospection) with c, bounded as httpcall says: the one
// request path of token requests and introspection. It returns the answer,
// with secrets to remove from any error made of it, or, when there was no
// usable answer, the endpoint's *Error.
func Post(ctx context.Context, c *httpcall.Caller, endpoint string, f httpcall.Form, secrets []string) (Answer, *Error) {
	sent := time.Now().Round(0) // the wall clock: lifetimes and dates are compared with it
	resp, body, err := c.PostForm(ctx, f)
	if err != nil {
		return Answer{}, Network(endpoint, resp, err)
	}
	return Answer{Endpoint: endpoint, Grant: f.Values.Get("grant_type"), Resp: resp, Body: body, Secrets: secrets, Sent: sent}, nil
}

// Fields are the error members of an OAuth answer (RFC 6749 section 5.2).
type Fields struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorURI         string `json:"error_uri"`
}

// Error is what a failed request says, without credentials: the fields of
// serviceuser.TokenError, in its order, so that a *Error converts to a
// *serviceuser.TokenError (the conversion fails to compile when they differ).
// See there for what each means.
type Error struct {
	StatusCode int
	// Code is one line of at most MaxCode bytes.
	Code string
	// Description is one line of at most MaxDescription bytes.
	Description string
	RetryAfter  time.Duration
	Hint        string
	Err         error
	Endpoint    string
}

// Error reads the answer, whose error members are f, into an *Error whose
// Err is an *oauth2.RetrieveError and whose Hint explains it. tokens are
// what the answer may still carry, removed too; description, when set,
// replaces the server's (for a malformed success answer).
//
// The code, description and error_uri, in the Error and in the
// RetrieveError alike, are one line each and bounded, so that neither
// TokenError.Error nor x/oauth2's RetrieveError.Error lets a server forge a
// log line or fill a log; a code or description as ZITADEL sends them is
// unchanged. The RetrieveError's Body is the body as sent, credentials
// removed and at most 2 KiB, for code that parses it.
func (a Answer) Error(f Fields, tokens []string, description string) *Error {
	now := a.Sent
	if now.IsZero() {
		now = time.Now()
	}
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
	h := hint.For(hint.Answer{Endpoint: a.Endpoint, Grant: a.Grant, StatusCode: a.Resp.StatusCode, Code: code, Description: desc,
		Date: a.Resp.Header.Get("Date"), Sent: now})
	return &Error{StatusCode: a.Resp.StatusCode, Code: code, Description: redact.Line(desc, MaxDescription),
		RetryAfter: ParseRetryAfter(a.Resp.Header.Get("Retry-After"), now), Hint: h, Err: re, Endpoint: a.Endpoint}
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
	return a.Error(v.Fields, []string{v.AccessToken, v.IDToken}, "")
}

// Network is the error of a request that got no usable answer: none at all
// (resp is nil) or one whose body could not be read. It has no hint: there
// is no answer to explain.
func Network(endpoint string, resp *http.Response, err error) *Error {
	if resp == nil {
		return &Error{Endpoint: endpoint, Err: err}
	}
	return &Error{Endpoint: endpoint, StatusCode: resp.StatusCode, Description: redact.Line(err.Error(), MaxDescription),
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
