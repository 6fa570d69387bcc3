package serviceuser

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/urlpolicy"
)

// PATConfig uses a ZITADEL personal access token: a static bearer token made
// in the console for a machine user. It cannot be renewed, so a 401 from the
// server is returned as ErrPATRejected rather than retried.
type PATConfig struct {
	// PAT is the personal access token (see ReadPAT and PATFromEnv).
	PAT Secret
	// Expiry is when the token expires, as set in the console; zero means never.
	Expiry time.Time
	// HTTPClient's transport sends the API requests; nil means
	// http.DefaultTransport (or the client ctx carries under oauth2.HTTPClient).
	HTTPClient *http.Client
	// OrgID, when set, is sent as the x-zitadel-orgid header.
	OrgID string
	// Issuer is the ZITADEL instance; it is needed only with Address, Header
	// or InsecureAllowPlainHTTP, which apply to requests to its origin.
	Issuer string
	// Address, InsecureAllowPlainHTTP and Header mean what they mean in
	// Config, for API requests through Client.
	Address                string
	InsecureAllowPlainHTTP bool
	Header                 http.Header
	Hooks                  *Hooks
}

// patRecheck is how long a PAT without expiry is served before the source
// checks it again; the check makes no request.
const patRecheck = 24 * time.Hour

// TokenSource returns a source of the token, as long as it has not expired.
// It makes no request; ctx only supplies values, as in Config.TokenSource.
func (c PATConfig) TokenSource(ctx context.Context) *TokenSource {
	s := c.settings()
	api := s.apiClient(s.httpClient(ctx))
	api.rejected = ErrPATRejected
	return newTokenSource(ctx, c.Token, api)
}

// Client returns an *http.Client that sends the token with every request
// (see Transport); a 401 answer becomes ErrPATRejected.
func (c PATConfig) Client(ctx context.Context) *http.Client {
	return c.TokenSource(ctx).Client()
}

// Token returns the token, as long as it has not expired.
func (c PATConfig) Token(context.Context) (*oauth2.Token, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	expiry := c.Expiry
	if expiry.IsZero() {
		expiry = time.Now().Add(patRecheck)
	} else if !time.Now().Before(expiry) {
		return nil, fmt.Errorf("%w at %s", ErrPATExpired, expiry.UTC().Format(time.RFC3339))
	}
	return &oauth2.Token{AccessToken: string(c.PAT), TokenType: "Bearer", Expiry: expiry}, nil
}

// Validate reports a token that cannot work.
func (c PATConfig) Validate() error {
	if c.PAT == "" {
		return &ConfigError{Config: "PATConfig", Field: "PAT", Problem: "missing"}
	}
	if _, err := checkPAT(string(c.PAT), ""); err != nil {
		return &ConfigError{Config: "PATConfig", Field: "PAT", Problem: err.Error()}
	}
	s := c.settings()
	if err := s.validateRoute(); err != nil {
		return err
	}
	if c.Issuer != "" {
		if _, err := urlpolicy.NormalizeIssuer(c.Issuer, c.InsecureAllowPlainHTTP); err != nil {
			return s.fieldError("Issuer", err)
		}
	}
	return nil
}

func (c PATConfig) settings() settings {
	return settings{config: "PATConfig", issuer: c.Issuer, client: c.HTTPClient, orgID: c.OrgID,
		address: c.Address, header: c.Header, allowPlainHTTP: c.InsecureAllowPlainHTTP, hooks: c.Hooks}
}

// patKind names personal access tokens in errors.
const patKind = "personal access token"

// ReadPAT reads a personal access token from the file at path. Surrounding
// white space and a UTF-8 byte order mark are removed; a file over 64 KiB or
// in UTF-16 is refused. Errors never repeat a value that is not plainly a
// path (see CredentialError).
func ReadPAT(path string) (Secret, error) {
	data, err := readCredentialFile(path, patKind, "")
	if err != nil {
		return "", err
	}
	text, utf16 := textEncoding(data)
	if utf16 {
		return "", &CredentialError{Kind: patKind, Problem: errUTF16}
	}
	return checkPAT(string(text), "")
}

// PATFromEnv returns the personal access token held by the environment
// variable name. Surrounding white space and quotes (kept by
// docker --env-file) are removed.
func PATFromEnv(name string) (Secret, error) {
	value, err := envValue(name, patKind)
	if err != nil {
		return "", err
	}
	return checkPAT(value, name)
}

// checkPAT refuses values that cannot be a token; the errors never quote it.
func checkPAT(s, env string) (Secret, error) {
	s = strings.TrimSpace(s)
	problem := ""
	switch {
	case s == "":
		problem = "the token is empty"
	case strings.ContainsAny(s, " \t\r\n"):
		problem = "the token contains white space"
	case strings.ContainsFunc(s, invisible):
		problem = "the token contains control or invisible characters"
	case len(s) > maxCredentialFileSize:
		problem = fmt.Sprintf("the token is longer than %d bytes", maxCredentialFileSize)
	default:
		return Secret(s), nil
	}
	return "", &CredentialError{Kind: patKind, Env: env, Problem: problem}
}
