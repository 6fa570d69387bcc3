// Program demo shows the main job of package serviceuser: a backend holds a
// ZITADEL service user's key file, gets tokens through a caching token
// source, and calls an API with an http.Client that carries them. It says
// what happens at each step, and never prints the token or the key.
//
// With ZITADEL_ISSUER and ZITADEL_KEY (the key file's JSON, or its path)
// set, it works against that instance:
//
//	ZITADEL_ISSUER=https://my-instance.zitadel.cloud ZITADEL_KEY=key.json go run ./examples/demo
//
// With neither set, it starts a fake ZITADEL inside the process (package
// serviceusertest) and says so:
//
//	go run ./examples/demo
//
// The command zitadel-fake runs such a fake on a port and prints the
// variables for it (built first: go run would hold the output open):
//
//	go build -o /tmp/zitadel-fake ./cmd/zitadel-fake
//	eval "$(/tmp/zitadel-fake -listen 127.0.0.1:0 &)"
//	go run ./examples/demo
//	kill "$ZITADEL_FAKE_PID"
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
)

// The variables that name the instance and the key.
const (
	envIssuer = "ZITADEL_ISSUER"
	envKey    = "ZITADEL_KEY"
)

// cachedCalls is how many Token calls the demo makes after the first.
const cachedCalls = 3

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run is the whole demo.
func run(ctx context.Context, stdout io.Writer) error {
	say := func(format string, args ...any) { fmt.Fprintf(stdout, "demo: "+format+"\n", args...) }
	issuer, key, closeFake, err := instance(say)
	if err != nil {
		return err
	}
	defer closeFake()
	say("service user %s with key %s (%s)", key.UserID, key.KeyID, key.KeyDescription())

	// Hooks count the token requests the source makes: the same count for
	// a real instance as for the fake.
	var requests atomic.Int64
	counting := &hooks.Hooks{RefreshDone: func(context.Context, hooks.RefreshDoneInfo) { requests.Add(1) }}
	ts := serviceuser.Config{Key: key, Issuer: issuer, Hooks: counting}.TokenSource(ctx)
	defer ts.Close()
	tok, err := ts.TokenContext(ctx)
	if err != nil {
		return err
	}
	say("fetched a %s token valid for %s (%s)", tok.TokenType,
		time.Until(tok.Expiry).Round(time.Second), tokenRequests(requests.Load()))

	if err := callUserinfo(ctx, ts, issuer, say); err != nil {
		return err
	}
	if err := checkCache(ctx, ts, tok.AccessToken, &requests); err != nil {
		return err
	}
	say("%d more Token() calls served from the cache (still %s)", cachedCalls, tokenRequests(requests.Load()))
	say("ok")
	return nil
}

// instance returns the issuer and key from the environment or, with
// neither variable set, those of a fake started here, with the function
// that stops it.
func instance(say func(string, ...any)) (string, *serviceuser.KeyFile, func(), error) {
	issuer := os.Getenv(envIssuer)
	hasIssuer, hasKey := issuer != "", os.Getenv(envKey) != ""
	switch {
	case hasIssuer && hasKey:
		key, err := serviceuser.KeyFileFromEnv(envKey) // the key file's JSON or its path
		if err != nil {
			return "", nil, nil, err
		}
		say("using the ZITADEL at %s ($%s, key from $%s)", issuer, envIssuer, envKey)
		return issuer, key, func() {}, nil
	case hasIssuer || hasKey:
		return "", nil, nil, fmt.Errorf("set both %s and %s, or neither for a fake ZITADEL", envIssuer, envKey)
	}
	srv := serviceusertest.NewServer()
	key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
	if err != nil {
		srv.Close()
		return "", nil, nil, err
	}
	say("%s and %s not set: started a fake ZITADEL in this process at %s", envIssuer, envKey, srv.Issuer())
	return srv.Issuer(), key, srv.Close, nil
}

// callUserinfo calls the userinfo endpoint, which discovery names, with the
// token source's client: an API call that carries the cached token.
func callUserinfo(ctx context.Context, ts *serviceuser.TokenSource, issuer string, say func(string, ...any)) error {
	endpoints, err := userinfo.Discover(ctx, issuer, serviceuser.Route{}, nil)
	if err != nil {
		return err
	}
	info, err := userinfo.Fetch(ctx, ts.Client(), endpoints.UserinfoURL)
	if err != nil {
		return err
	}
	claims, err := json.Marshal(info.Claims)
	if err != nil {
		return err
	}
	say("userinfo answered 200: %s", claims)
	return nil
}

// checkCache checks that further Token calls return the cached token
// without a token request.
func checkCache(ctx context.Context, ts *serviceuser.TokenSource, first string, requests *atomic.Int64) error {
	before := requests.Load()
	for range cachedCalls {
		tok, err := ts.TokenContext(ctx)
		if err != nil {
			return err
		}
		if tok.AccessToken != first {
			return errors.New("Token() returned a different token instead of the cached one")
		}
	}
	if n := requests.Load(); n != before {
		return fmt.Errorf("the cached token source sent %d more token requests", n-before)
	}
	return nil
}

func tokenRequests(n int64) string {
	if n == 1 {
		return "1 token request"
	}
	return fmt.Sprintf("%d token requests", n)
}
