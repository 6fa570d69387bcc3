package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/internal/printable"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// demoCachedCalls is how many Token calls the demo makes after the first.
const demoCachedCalls = 3

// runDemo starts a local fake ZITADEL, creates a service user on it and goes
// through what the token and userinfo subcommands do, saying what happens.
// It never prints the token or the key.
func runDemo(ctx context.Context, o *options, stdout io.Writer) error {
	say := func(format string, args ...any) { fmt.Fprintf(stdout, "demo: "+format+"\n", args...) }
	srv := serviceusertest.NewServer()
	defer srv.Close()
	say("started a local ZITADEL at %s", srv.Issuer())

	key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
	if err != nil {
		return err
	}
	say("service user %s with key %s (%s)", key.UserID, key.KeyID, key.KeyDescription())

	cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer(), Scopes: o.scopeValues(), Timeout: o.timeout}
	ts := cfg.TokenSource(ctx)
	defer ts.Close()
	tok, err := ts.TokenContext(ctx)
	if err != nil {
		return err
	}
	say("fetched a %s token valid for %s (%s)", tok.TokenType,
		time.Until(tok.Expiry).Round(time.Second), requests(srv.TokenRequests()))

	if err := demoUserinfo(ctx, o, ts, srv.UserinfoURL(), say); err != nil {
		return err
	}
	if err := demoCache(ctx, ts, tok.AccessToken, srv); err != nil {
		return err
	}
	say("%d more Token() calls served from the cache (still %s)", demoCachedCalls, requests(srv.TokenRequests()))
	say("ok")
	return nil
}

// demoUserinfo calls the userinfo endpoint with the token and shows its answer.
func demoUserinfo(ctx context.Context, o *options, ts *serviceuser.TokenSource, infoURL string, say func(string, ...any)) error {
	info, err := serviceuser.FetchUserinfo(ctx, o.authClient(ts), infoURL)
	if err != nil {
		return err
	}
	claims, err := json.Marshal(info.Claims)
	if err != nil {
		return err
	}
	say("userinfo answered 200: %s", printable.JSON(claims))
	return nil
}

// demoCache checks that further Token calls return the cached token
// without a request to the server.
func demoCache(ctx context.Context, ts *serviceuser.TokenSource, first string, srv *serviceusertest.Server) error {
	before := srv.TokenRequests()
	for range demoCachedCalls {
		tok, err := ts.TokenContext(ctx)
		if err != nil {
			return err
		}
		if tok.AccessToken != first {
			return fmt.Errorf("demo: Token() returned a different token instead of the cached one")
		}
	}
	if n := srv.TokenRequests(); n != before {
		return fmt.Errorf("demo: the cached token source sent %d more token requests", n-before)
	}
	return nil
}

func requests(n int) string {
	if n == 1 {
		return "1 token request"
	}
	return fmt.Sprintf("%d token requests", n)
}
