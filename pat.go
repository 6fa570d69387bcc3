package serviceuser

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
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

// ReadPAT reads a personal access token from the file at path (surrounding
// white space is removed).
func ReadPAT(path string) (Secret, error) {
	data, err := readSmallFile(path, "personal access token")
	if err != nil {
		return "", err
	}
	return checkPAT(string(data))
}

// PATFromEnv returns the personal access token held by the environment
// variable name.
func PATFromEnv(name string) (Secret, error) {
	value, ok := os.LookupEnv(name)
	if !ok {
		return "", fmt.Errorf("serviceuser: environment variable %s is not set", name)
	}
	return checkPAT(value)
}

func checkPAT(s string) (Secret, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errors.New("serviceuser: personal access token is empty")
	case strings.ContainsAny(s, " \t\r\n"):
		return "", errors.New("serviceuser: personal access token contains white space")
	}
	return Secret(s), nil
}
