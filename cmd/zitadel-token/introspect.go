package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
)

// introspectOptions are the flags of introspect.
type introspectOptions struct {
	keyFlags
	zitadelFlags
	token            string
	introspectionURL string
	json             bool
}

func (o *introspectOptions) define(fs *flagSet) {
	o.keyFlags.define(fs)
	o.zitadelFlags.define(fs)
	fs.stringVar(&o.token, "token", "-")
	fs.stringVar(&o.introspectionURL, "introspection-url", "")
	fs.boolVar(&o.json, "json")
}

// errInactive is introspection's answer that the token is not active.
// ZITADEL answers {"active":false} alike for an inactive token and for a
// refused API application key, so the message names both.
var errInactive = withCode(exitInactive, errors.New("the token is not active, or ZITADEL refused the API application's key: "+
	"it answers both alike (an active token needs the API's project in its audience: "+
	"scope urn:zitadel:iam:org:project:id:PROJECT_ID:aud)"))

// run asks the introspection endpoint whether a token is active and prints
// the answer. An inactive token is reported after the answer is printed,
// so that the exit code tells it apart. The token is never printed.
func (o *introspectOptions) run(ctx context.Context, x *invocation, stdout io.Writer) error {
	if o.token == "" {
		return usageErrorf("-token is empty; give the token, or - to read it from standard input")
	}
	key, err := o.applicationKey()
	if err != nil {
		return err
	}
	in, err := o.introspector(ctx, key, o.introspectionURL)
	if err != nil {
		return err
	}
	token, err := o.tokenToCheck(ctx, x.stdin)
	if err != nil {
		return err
	}
	r, err := in.Introspect(ctx, token)
	if err != nil {
		return o.requestFailed(err)
	}
	if err := printIntrospection(stdout, r, o.json); err != nil {
		return err
	}
	if !r.Active {
		return errInactive
	}
	return nil
}

// applicationKey checks the flags and loads the API application's key.
func (o *introspectOptions) applicationKey() (*serviceuser.KeyFile, error) {
	if o.timeout <= 0 {
		return nil, usageErrorf("-timeout must be positive")
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	if err := o.requireIssuer(); err != nil {
		return nil, err
	}
	if err := o.checkRoute(); err != nil {
		return nil, err
	}
	key, err := o.loadValidKey()
	if err != nil {
		return nil, err
	}
	if key.Type != serviceuser.KeyTypeApplication {
		return nil, withCode(exitKey, fmt.Errorf("introspect needs an API application key (type %q), not a key of type %q",
			serviceuser.KeyTypeApplication, key.Type))
	}
	return key, nil
}

// introspector asks ZITADEL about tokens as the API application of key,
// at introspectionURL or the discovered endpoint, by the route of -address
// and -H; each answer is fresh (no cache).
func (o *zitadelFlags) introspector(ctx context.Context, key *serviceuser.KeyFile, introspectionURL string) (*introspection.Introspector, error) {
	cfg := introspection.Config{Key: key, Issuer: o.issuer, IntrospectionURL: introspectionURL,
		Timeout: o.timeout, CacheTTL: -1, HTTPClient: o.watch.client(),
		Route: o.zitadelRoute()}
	in, err := cfg.NewIntrospector(ctx)
	if err != nil {
		return nil, o.requestFailed(err)
	}
	return in, nil
}

// maxTokenSize bounds the token read from standard input.
const maxTokenSize = 64 << 10

// tokenToCheck returns the -token value, or the token on standard input
// when it is "-". Error messages never repeat the token.
func (o *introspectOptions) tokenToCheck(ctx context.Context, stdin io.Reader) (string, error) {
	token := o.token
	if token == "-" {
		data, err := readContext(ctx, io.LimitReader(stdin, maxTokenSize+1))
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

// printIntrospection prints the answer's fields that are set, one per line,
// or the whole answer as JSON, as ZITADEL sent it.
func printIntrospection(w io.Writer, r *introspection.Result, asJSON bool) error {
	if asJSON && !r.Active {
		return writeJSON(w, map[string]bool{"active": false})
	}
	if asJSON {
		return writeJSON(w, r.Claims())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "active: %t\n", r.Active)
	line := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%s: %s\n", name, value)
		}
	}
	line("sub", printableLine(r.Subject))
	line("username", printableLine(r.Username))
	line("scope", printableLine(r.Scope))
	if !r.ExpiresAt.IsZero() {
		line("expires", r.ExpiresAt.UTC().Format(time.RFC3339))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
