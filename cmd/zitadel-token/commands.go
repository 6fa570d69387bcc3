package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/internal/printable"
	"github.com/go-serviceuser/serviceuser/introspection"
)

// runToken prints an access token, or its details as JSON with -json.
func runToken(ctx context.Context, o *options, stdout io.Writer) error {
	if o.demo {
		return runDemo(ctx, o, stdout)
	}
	cred, err := loadCredential(o, false)
	if err != nil {
		return err
	}
	tok, err := obtainToken(ctx, o, cred, o.scopeValues())
	if err != nil {
		return err
	}
	expiry := tok.Expiry
	if cred.mode == modePAT {
		expiry = time.Time{} // the token file does not say; the library's expiry is when it looks again
	}
	return printToken(stdout, tok.AccessToken, tok.TokenType, expiry, o.json)
}

// obtainToken returns a token for scopes: the cached one while it is valid
// for longer than cacheMargin, otherwise a new one, which is cached.
func obtainToken(ctx context.Context, o *options, cred *credential, scopes []string) (*oauth2.Token, error) {
	cache := o.tokenCache(cred, scopes)
	if tok := cache.load(); tok != nil {
		return tok, nil
	}
	tok, err := cred.token(ctx, scopes)
	if err != nil {
		return nil, err
	}
	cache.store(tok)
	return tok, nil
}

// printToken prints the access token alone, or with its details as JSON;
// a zero expiry is unknown and left out.
func printToken(w io.Writer, accessToken, tokenType string, expiry time.Time, asJSON bool) error {
	if !asJSON {
		_, err := fmt.Fprintln(w, printable.Line(accessToken))
		return err
	}
	tj := tokenJSON{AccessToken: accessToken, TokenType: tokenType}
	if !expiry.IsZero() {
		tj.Expiry = expiry.UTC().Format(time.RFC3339)
		tj.ExpiresIn = int64(time.Until(expiry).Round(time.Second) / time.Second)
	}
	return writeJSON(w, tj)
}

type tokenJSON struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Expiry      string `json:"expiry,omitempty"`
	ExpiresIn   int64  `json:"expires_in,omitempty"`
}

// runAssertion prints one signed JWT assertion for the key.
func runAssertion(_ context.Context, o *options, stdout io.Writer) error {
	if o.lifetime <= 0 {
		return usageErrorf("-lifetime must be more than 0")
	}
	if err := checkRequired(o, true); err != nil {
		return err
	}
	key, err := loadKey(o)
	if err != nil {
		return err
	}
	if err := key.CheckExpiry(time.Now()); err != nil {
		return err
	}
	jwt, err := serviceuser.SignAssertion(key, o.issuer, o.lifetime)
	if ce := (*serviceuser.ConfigError)(nil); errors.As(err, &ce) && ce.Field == "lifetime" {
		return usageErrorf("-lifetime %s", ce.Problem)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, jwt)
	return err
}

// runInspect prints what the key file holds, never the key itself. An
// expired key is still described, then reported as an error.
func runInspect(_ context.Context, o *options, stdout io.Writer) error {
	if err := checkRequired(o, false); err != nil {
		return err
	}
	key, err := loadKey(o)
	if err != nil {
		return err
	}
	if err := printSummary(stdout, summarize(key), o.json); err != nil {
		return err
	}
	return key.CheckExpiry(time.Now())
}

// keySummary is what inspect shows of a key file.
type keySummary struct {
	Type       string `json:"type"`
	KeyID      string `json:"keyId"`
	UserID     string `json:"userId,omitempty"`
	AppID      string `json:"appId,omitempty"`
	ClientID   string `json:"clientId,omitempty"`
	KeyKind    string `json:"keyKind"`
	Expiration string `json:"expirationDate"`
	Expired    bool   `json:"expired"`
}

func summarize(key *serviceuser.KeyFile) keySummary {
	s := keySummary{Type: key.Type, KeyID: key.KeyID, UserID: key.UserID, AppID: key.AppID,
		ClientID: key.ClientID, KeyKind: key.KeyDescription(), Expiration: "never",
		Expired: key.CheckExpiry(time.Now()) != nil}
	if !key.ExpirationDate.IsZero() {
		s.Expiration = key.ExpirationDate.UTC().Format(time.RFC3339)
	}
	return s
}

func printSummary(w io.Writer, s keySummary, asJSON bool) error {
	if asJSON {
		return writeJSON(w, s)
	}
	var b strings.Builder
	line := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%-16s%s\n", name+":", printable.Line(value))
		}
	}
	line("type", s.Type)
	line("keyId", s.KeyID)
	line("userId", s.UserID)
	line("appId", s.AppID)
	line("clientId", s.ClientID)
	line("keyKind", s.KeyKind)
	line("expirationDate", s.Expiration)
	line("expired", map[bool]string{false: "no", true: "yes"}[s.Expired])
	_, err := io.WriteString(w, b.String())
	return err
}

// runUserinfo fetches a token and prints the userinfo endpoint's answer.
func runUserinfo(ctx context.Context, o *options, stdout io.Writer) error {
	cred, err := loadCredential(o, true)
	if err != nil {
		return err
	}
	infoURL, err := userinfoEndpoint(ctx, o)
	if err != nil {
		return err
	}
	tok, err := obtainToken(ctx, o, cred, o.scopeValues())
	if err != nil {
		return err
	}
	info, err := serviceuser.FetchUserinfo(ctx, o.authClient(oauth2.StaticTokenSource(tok)), infoURL)
	if err != nil {
		return err
	}
	return writeJSON(stdout, info.Claims)
}

// userinfoEndpoint returns -userinfo-url, or discovers the endpoint (and,
// unless -token-url is given, the token endpoint with it).
func userinfoEndpoint(ctx context.Context, o *options) (string, error) {
	if o.userinfoURL != "" {
		return o.userinfoURL, nil
	}
	ep, err := serviceuser.Discover(ctx, o.issuer, o.zitadelRoute(), &http.Client{Transport: o.watch, Timeout: o.timeout})
	if err != nil {
		return "", err
	}
	if ep.UserinfoURL == "" {
		return "", &refusedError{"the discovery document names no userinfo_endpoint; give -userinfo-url"}
	}
	if o.tokenURL == "" {
		o.tokenURL = ep.TokenURL
	}
	return ep.UserinfoURL, nil
}

// runIntrospect asks the introspection endpoint whether a token is active
// and prints the answer. An inactive token is reported after the answer is
// printed, so that the exit code tells it apart. The token is never printed.
func runIntrospect(ctx context.Context, o *options, stdout io.Writer) error {
	if o.token == "" {
		return usageErrorf("-token is empty; give the token, or - to read it from standard input")
	}
	key, err := tokenKey(o)
	if err != nil {
		return err
	}
	if key.Type != serviceuser.KeyTypeApplication {
		return &keyError{fmt.Errorf("introspect needs an API application key (type %q), not a key of type %q",
			serviceuser.KeyTypeApplication, key.Type)}
	}
	in, err := o.introspector(ctx, key)
	if err != nil {
		return err
	}
	token, err := tokenToCheck(ctx, o)
	if err != nil {
		return err
	}
	r, err := in.Introspect(ctx, token)
	if err != nil {
		return err
	}
	if err := printIntrospection(stdout, r, o.json); err != nil {
		return err
	}
	if !r.Active {
		return &inactiveError{}
	}
	return nil
}

// introspector asks ZITADEL about tokens as the API application of key,
// by the route of -address and -H; each answer is fresh (no cache).
func (o *options) introspector(ctx context.Context, key *serviceuser.KeyFile) (*introspection.Introspector, error) {
	cfg := introspection.Config{Key: key, Issuer: o.issuer, IntrospectionURL: o.introspectionURL,
		Timeout: o.timeout, CacheTTL: -1, HTTPClient: o.watch.client(),
		Route: o.zitadelRoute()}
	return cfg.NewIntrospector(ctx)
}

// maxTokenSize bounds the token read from standard input.
const maxTokenSize = 64 << 10

// tokenToCheck returns the -token value, or the token on standard input
// when it is "-". Error messages never repeat the token.
func tokenToCheck(ctx context.Context, o *options) (string, error) {
	token := o.token
	if token == "-" {
		data, err := readContext(ctx, io.LimitReader(o.stdin, maxTokenSize+1))
		if err != nil {
			return "", fmt.Errorf("reading the token from standard input: %w", err)
		}
		if len(data) > maxTokenSize {
			return "", usageErrorf("standard input holds more than %d KiB, too much for a token", maxTokenSize>>10)
		}
		token = string(data)
	}
	token = strings.TrimSpace(token)
	switch {
	case token == "" && o.token == "-":
		return "", usageErrorf("no token on standard input; give -token or write the token to standard input")
	case token == "":
		return "", usageErrorf("-token is empty")
	case strings.ContainsAny(token, " \t\r\n"):
		return "", usageErrorf("the token contains white space; give one token only")
	}
	return token, nil
}

// readContext reads r to its end, or returns when ctx is done: a terminal
// that nobody types into must not keep Ctrl-C from ending the tool. The
// abandoned read ends with the process.
func readContext(ctx context.Context, r io.Reader) ([]byte, error) {
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := io.ReadAll(r)
		done <- result{data, err}
	}()
	select {
	case res := <-done:
		return res.data, res.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// printIntrospection prints the answer's fields that are set, one per line,
// or the whole answer as JSON.
func printIntrospection(w io.Writer, r *introspection.Result, asJSON bool) error {
	if asJSON {
		return writeJSON(w, r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "active: %t\n", r.Active)
	line := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%s: %s\n", name, value)
		}
	}
	line("sub", printable.Line(r.Subject))
	line("username", printable.Line(r.Username))
	line("scope", printable.Line(r.Scope))
	if r.ExpiresAt != 0 {
		line("expires", time.Unix(r.ExpiresAt, 0).UTC().Format(time.RFC3339))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// tokenKey checks the flags of the subcommands that call ZITADEL and loads
// their key.
func tokenKey(o *options) (*serviceuser.KeyFile, error) {
	if o.timeout <= 0 {
		return nil, usageErrorf("-timeout must be positive")
	}
	if err := checkRequired(o, true); err != nil {
		return nil, err
	}
	if err := o.checkRoute(); err != nil {
		return nil, err
	}
	key, err := loadKey(o)
	if err != nil {
		return nil, err
	}
	return key, key.CheckExpiry(time.Now())
}
