package serviceuser

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// PATConfig uses a ZITADEL personal access token: a static bearer token made
// in the console for a machine user. It cannot be refreshed, so a 401 from the
// server is returned as ErrPATRejected rather than retried.
type PATConfig struct {
	// Token is the personal access token (see ReadPAT and PATFromEnv).
	Token Secret
	// Expiry is when the token expires, as set in the console; zero means never.
	Expiry time.Time
	// HTTPClient's transport sends the requests; nil means http.DefaultTransport.
	HTTPClient *http.Client
	// OrgID, when set, is sent as the x-zitadel-orgid header.
	OrgID string
}

// ErrPATRejected is returned when the server refuses a personal access token
// (HTTP 401): it was revoked, has expired, or belongs to another instance.
var ErrPATRejected = errors.New("serviceuser: personal access token rejected (HTTP 401): it was revoked, expired, or is for another instance; create a new one")

// ErrPATExpired is returned once the configured expiry has passed.
var ErrPATExpired = errors.New("serviceuser: personal access token expired")

// TokenSource returns the token, as long as it has not expired.
func (c PATConfig) TokenSource() oauth2.TokenSource {
	return patSource{token: &oauth2.Token{AccessToken: string(c.Token), TokenType: "Bearer", Expiry: c.Expiry}}
}

// Client returns an *http.Client that sends the token with every request
// (see Transport); a 401 answer becomes ErrPATRejected.
func (c PATConfig) Client(ctx context.Context) *http.Client {
	return newClient(ctx, c.TokenSource(), c.HTTPClient, c.OrgID)
}

// patSource serves one static token.
type patSource struct{ token *oauth2.Token }

func (s patSource) Token() (*oauth2.Token, error) {
	switch {
	case s.token.AccessToken == "":
		return nil, &ConfigError{Field: "Token", Problem: "missing"}
	case !s.token.Expiry.IsZero() && !time.Now().Before(s.token.Expiry):
		return nil, fmt.Errorf("%w at %s", ErrPATExpired, s.token.Expiry.Format(time.RFC3339))
	}
	return s.token, nil
}

// String describes the source without its token.
func (s patSource) String() string {
	if s.token == nil || s.token.Expiry.IsZero() {
		return "serviceuser.PATConfig.TokenSource{token: " + redacted + "}"
	}
	return "serviceuser.PATConfig.TokenSource{token: " + redacted + ", expiry: " + s.token.Expiry.UTC().Format(time.RFC3339) + "}"
}

// GoString is String: %#v must not reveal the token either.
func (s patSource) GoString() string { return s.String() }

// Format prints String for every verb: %s, %q and %x of the struct would
// otherwise print the token.
func (s patSource) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s.String()) }

// LogValue makes slog log String.
func (s patSource) LogValue() slog.Value { return slog.StringValue(s.String()) }

// rejected turns a 401 into ErrPATRejected: there is no new token to try.
func (patSource) rejected() error { return ErrPATRejected }

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
