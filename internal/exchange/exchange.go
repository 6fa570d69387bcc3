// Package exchange makes one request to a token endpoint and reads the
// answer into a token or an *answer.Error. It carries forms: it knows no
// key, secret or grant, only what a grant put into its Request.
package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/answer"
	"github.com/go-serviceuser/serviceuser/internal/hint"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// FallbackLifetime is the lifetime assumed for a token whose response has
// no expires_in: finite, so that such a token is refreshed, not kept
// forever.
const FallbackLifetime = 15 * time.Minute

// MaxLifetime caps expires_in: refreshing earlier than needed is harmless,
// trusting an absurd value is not.
const MaxLifetime = 7 * 24 * time.Hour

// Request is one request to a token endpoint.
type Request struct {
	URL  string
	Form url.Values
	// BasicUser and BasicPassword, when set, authenticate the client with
	// HTTP Basic, each part form-URL-encoded as RFC 6749 section 2.3.1 says.
	BasicUser, BasicPassword string
	// Secrets are removed from anything an error keeps of the answer.
	Secrets []string
}

// Post sends r's form with c and reads the answer as a token response.
func Post(ctx context.Context, c *httpcall.Caller, r Request) (*oauth2.Token, *answer.Error) {
	f := httpcall.Form{URL: r.URL, Values: r.Form, BasicUser: r.BasicUser, BasicPassword: r.BasicPassword}
	a, failed := answer.Post(ctx, c, hint.EndpointToken, f, r.Secrets)
	if failed != nil {
		return nil, failed
	}
	return Parse(a)
}

// response is RFC 6749's access token response and error response.
type response struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	ExpiresIn   expiresIn `json:"expires_in"`
	IDToken     string    `json:"id_token"`
	Scope       string    `json:"scope"`
	answer.Fields
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
		return fmt.Errorf("expires_in %q is not a number", redact.Truncate(s, 20))
	}
	if f < 0 {
		return fmt.Errorf("expires_in %s is negative", redact.Truncate(s, 20))
	}
	e.seconds, e.set = int64(min(f, MaxLifetime.Seconds())), true
	return nil
}

// Parse turns a token endpoint's answer into a token, or into an
// *answer.Error whose Err is an *oauth2.RetrieveError. The token's lifetime
// counts from when the request was sent (a.Sent). An access token that is
// not a b64token is refused: sent in an Authorization header, a line break
// would end the header and start another, and other characters break or
// are dropped by the servers that read it.
func Parse(a answer.Answer) (*oauth2.Token, *answer.Error) {
	var tr response
	jsonErr := json.Unmarshal(bytes.TrimSpace(a.Body), &tr)
	fail := func(description string) *answer.Error {
		return a.Error(tr.Fields, []string{tr.AccessToken, tr.IDToken}, description)
	}
	switch {
	case a.Resp.StatusCode < 200 || a.Resp.StatusCode > 299:
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
	lifetime := FallbackLifetime
	if tr.ExpiresIn.set && tr.ExpiresIn.seconds > 0 {
		lifetime = time.Duration(tr.ExpiresIn.seconds) * time.Second
	}
	tok := &oauth2.Token{AccessToken: tr.AccessToken, TokenType: tokenType, Expiry: a.Sent.Add(lifetime), ExpiresIn: int64(lifetime / time.Second)}
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
	return "", fmt.Errorf("token_type %q is not Bearer", redact.Truncate(t, 20))
}

// b64tokenPattern is RFC 6750's b64token: the access tokens an
// Authorization header can carry.
var b64tokenPattern = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]+=*$`)

// validBearerToken reports whether token can be sent in an Authorization header.
func validBearerToken(token string) bool {
	return b64tokenPattern.MatchString(token)
}
