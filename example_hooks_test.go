package serviceuser_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"sync"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// Hooks see what a source does, without any secret: here they count token
// requests by outcome.
func ExampleHooks() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	key := exampleKey(zitadel)
	var ok, failed int
	hooks := &serviceuser.Hooks{
		RefreshDone: func(_ context.Context, i serviceuser.RefreshDoneInfo) {
			if i.Err != nil {
				failed++
				return
			}
			ok++
		},
	}
	ts := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Hooks: hooks}.TokenSource(context.Background())
	defer ts.Close()
	for range 3 {
		if _, err := ts.Token(); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("token requests ok:", ok, "failed:", failed)
	// Output: token requests ok: 1 failed: 0
}

// Hooks shared by several sources tell them apart by SourceFromContext; the
// context also carries the values of the caller a refresh keeps waiting.
func ExampleSourceFromContext() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	var mu sync.Mutex
	names := map[*serviceuser.TokenSource]string{}
	hooks := &serviceuser.Hooks{
		RefreshDone: func(ctx context.Context, i serviceuser.RefreshDoneInfo) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Printf("token for %s, requested by %v\n", names[serviceuser.SourceFromContext(ctx)], ctx.Value(requestID{}))
		},
	}
	for _, name := range []string{"billing", "reports"} {
		ts := serviceuser.Config{Key: exampleKey(zitadel), Issuer: zitadel.Issuer(), Hooks: hooks}.TokenSource(context.Background())
		defer ts.Close()
		mu.Lock()
		names[ts] = name
		mu.Unlock()
		ctx := context.WithValue(context.Background(), requestID{}, "request "+name)
		if _, err := ts.TokenContext(ctx); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// token for billing, requested by request billing
	// token for reports, requested by request reports
}

// requestID keys a request's id in a context.
type requestID struct{}

// SlogHooks logs failures at Warn and the rest at Debug; JoinHooks combines
// it with hooks of your own.
func ExampleSlogHooks() {
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
	cfg := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Hooks: serviceuser.SlogHooks(logger)}
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()

	zitadel.FailNext(1, serviceusertest.Fault{Status: http.StatusServiceUnavailable, Body: "maintenance"})
	if _, err := ts.Token(); err != nil { // the 503 is retried within the wait
		log.Fatal(err)
	}
	// Output:
	// level=WARN msg="serviceuser: token request failed" waited=true attempt=1 error="serviceuser: token request failed: HTTP 503: maintenance"
}

// Ready backs a readiness endpoint: ready while a valid token is cached.
func ExampleTokenSource_Ready() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	key := exampleKey(zitadel)
	ts := serviceuser.Config{Key: key, Issuer: zitadel.Issuer()}.TokenSource(context.Background())
	defer ts.Close()
	mux := http.NewServeMux() // your service's
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ts.Ready(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})

	fmt.Println(ts.Ready())
	if _, err := ts.Token(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(ts.Ready())
	// Output:
	// serviceuser: no token yet
	// <nil>
}
