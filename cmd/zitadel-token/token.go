package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"golang.org/x/oauth2"
)

// tokenOptions are the flags of token.
type tokenOptions struct {
	tokenFlags
	noCache bool
	json    bool
}

func (o *tokenOptions) define(fs *flagSet) {
	o.tokenFlags.define(fs)
	fs.boolVar(&o.noCache, "no-cache")
	fs.boolVar(&o.json, "json")
}

// run prints an access token, or its details as JSON with -json.
func (o *tokenOptions) run(ctx context.Context, x *invocation, stdout io.Writer) error {
	cred, err := o.loadCredential(x, false)
	if err != nil {
		return err
	}
	tok, err := o.obtainToken(ctx, cred, o.scopeValues(), o.noCache)
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
// for longer than cacheMargin, otherwise a new one, which is cached (unless
// noCache).
func (o *tokenFlags) obtainToken(ctx context.Context, cred *credential, scopes []string, noCache bool) (*oauth2.Token, error) {
	cache := o.tokenCache(cred, scopes, noCache)
	if tok := cache.load(); tok != nil {
		return tok, nil
	}
	tok, err := cred.token(ctx, scopes)
	if err != nil {
		return nil, o.requestFailed(err)
	}
	cache.store(tok)
	return tok, nil
}

// printToken prints the access token alone, or with its details as JSON;
// a zero expiry is unknown and left out.
func printToken(w io.Writer, accessToken, tokenType string, expiry time.Time, asJSON bool) error {
	if !asJSON {
		_, err := fmt.Fprintln(w, printableLine(accessToken))
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
