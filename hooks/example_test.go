package hooks_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// exampleKey is a key of a new service user of zitadel.
func exampleKey(zitadel *serviceusertest.Server) *serviceuser.KeyFile {
	key, err := serviceuser.ParseKeyFile(zitadel.NewServiceUser().KeyFile)
	if err != nil {
		log.Fatal(err)
	}
	return key
}

// Hooks see what a source does, without any secret: here they count token
// requests by outcome.
func ExampleHooks() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	key := exampleKey(zitadel)
	var ok, failed int
	counting := &hooks.Hooks{
		RefreshDone: func(_ context.Context, i hooks.RefreshDoneInfo) {
			if i.Err != nil {
				failed++
				return
			}
			ok++
		},
	}
	ts := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Hooks: counting}.TokenSource(context.Background())
	defer ts.Close()
	for range 3 {
		if _, err := ts.Token(); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("token requests ok:", ok, "failed:", failed)
	// Output: token requests ok: 1 failed: 0
}

// Slog logs failures at Warn and the rest at Debug; a handler of your own
// decides what is written.
func ExampleSlog() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	key := exampleKey(zitadel)
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelWarn, // failures only
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" || a.Key == "next_attempt" {
				return slog.Attr{} // left out to keep the example's output stable
			}
			return a
		},
	}))
	cfg := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Hooks: hooks.Slog(logger)}
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()

	zitadel.FailNext(1, serviceusertest.Fault{Status: http.StatusServiceUnavailable, Body: "maintenance"})
	if _, err := ts.Token(); err != nil { // the 503 is retried within the wait
		log.Fatal(err)
	}
	// Output:
	// level=WARN msg="serviceuser: token request failed" waited=true attempt=1 error="serviceuser: token request failed: HTTP 503: maintenance"
}
