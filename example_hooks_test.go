package serviceuser_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"sync"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// Hooks shared by several sources tell them apart by SourceFromContext; the
// context also carries the values of the caller a refresh keeps waiting.
func ExampleSourceFromContext() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	var mu sync.Mutex
	names := map[*serviceuser.TokenSource]string{}
	naming := &hooks.Hooks{
		RefreshDone: func(ctx context.Context, i hooks.RefreshDoneInfo) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Printf("token for %s, requested by %v\n", names[serviceuser.SourceFromContext(ctx)], ctx.Value(requestID{}))
		},
	}
	for _, name := range []string{"billing", "reports"} {
		ts := serviceuser.Config{Key: exampleKey(zitadel), Issuer: zitadel.Issuer(), Hooks: naming}.TokenSource(context.Background())
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
