package serviceuser

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
	"github.com/go-serviceuser/serviceuser/internal/assertion"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
)

// Grant types the library sends: RFC 7523 section 2.1's JWT bearer grant
// (the similar "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" is
// not a grant type) and OAuth 2.0's client credentials grant.
const (
	grantTypeJWTBearer         = assertion.GrantType
	grantTypeClientCredentials = "client_credentials"
)

// fallbackTokenLifetime is the lifetime assumed for a token whose response
// has no expires_in: finite, so that such a token is refreshed, not kept
// forever. TokenSource's doc names it.
const fallbackTokenLifetime = 15 * time.Minute

// maxTokenLifetime caps expires_in: refreshing earlier than needed is harmless,
// trusting an absurd value is not.
const maxTokenLifetime = 7 * 24 * time.Hour

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

// exchange POSTs the request's form with c and parses the answer as a token response.
func exchange(ctx context.Context, c *httpcall.Caller, tr tokenRequest) (*oauth2.Token, error) {
	f := httpcall.Form{URL: tr.url, Values: tr.form, BasicUser: tr.basicUser, BasicPassword: tr.basicPassword}
	a, failed := answer.Post(ctx, c, EndpointToken, f, tr.secrets)
	if failed != nil {
		return nil, tokenError(failed)
	}
	return parseTokenResponse(a)
}

// tokenError is the *TokenError of a failed request: an *answer.Error has
// its fields, hint included.
func tokenError(e *answer.Error) *TokenError { return (*TokenError)(e) }

// tokenResponse is RFC 6749's access token response and error response.
type tokenResponse struct {
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
		return fmt.Errorf("expires_in %q is not a number", truncate(s, 20))
	}
	if f < 0 {
		return fmt.Errorf("expires_in %s is negative", truncate(s, 20))
	}
	e.seconds, e.set = int64(min(f, maxTokenLifetime.Seconds())), true
	return nil
}

// parseTokenResponse turns a token endpoint answer into a token, or into a
// *TokenError that unwraps to *oauth2.RetrieveError. The token's lifetime
// counts from when the request was sent (a.Sent). An access token
// that is not a b64token is refused: sent in an Authorization header, a line
// break would end the header and start another, and other characters break
// or are dropped by the servers that read it.
func parseTokenResponse(a answer.Answer) (*oauth2.Token, error) {
	var tr tokenResponse
	jsonErr := json.Unmarshal(bytes.TrimSpace(a.Body), &tr)
	fail := func(description string) error {
		return tokenError(a.Error(tr.Fields, []string{tr.AccessToken, tr.IDToken}, description))
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
	lifetime := fallbackTokenLifetime
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
	return "", fmt.Errorf("token_type %q is not Bearer", truncate(t, 20))
}

// b64tokenPattern is RFC 6750's b64token: the access tokens an
// Authorization header can carry.
var b64tokenPattern = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]+=*$`)

// validBearerToken reports whether token can be sent in an Authorization header.
func validBearerToken(token string) bool {
	return b64tokenPattern.MatchString(token)
}
