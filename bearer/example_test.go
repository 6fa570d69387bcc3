package bearer_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"sync/atomic"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/bearer"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
)

// meteredSource is a decorator a program might put around a token source,
// here to count the tokens it hands out. It forwards both capabilities that
// Transport looks for: without TokenContext a request's context would no
// longer bound its wait for a token, and without Invalidate a token the
// server refused with 401 would keep being sent.
type meteredSource struct {
	source *serviceuser.TokenSource
	served atomic.Int64
}

var (
	_ bearer.ContextTokenSource = (*meteredSource)(nil)
	_ bearer.Invalidator        = (*meteredSource)(nil)
)

func (m *meteredSource) Token() (*oauth2.Token, error) {
	return m.TokenContext(context.Background())
}

func (m *meteredSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	m.served.Add(1)
	return m.source.TokenContext(ctx)
}

func (m *meteredSource) Invalidate(tok *oauth2.Token) { m.source.Invalidate(tok) }

// A decorator around a token source keeps the token source's cache, its
// context-bounded wait and its 401 handling when it forwards TokenContext
// and Invalidate.
func ExampleTransport() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	key, err := serviceuser.ParseKeyFile(zitadel.NewServiceUser().KeyFile)
	if err != nil {
		log.Fatal(err)
	}
	ts := serviceuser.Config{Key: key, Issuer: zitadel.Issuer()}.TokenSource(context.Background())
	defer ts.Close()

	metered := &meteredSource{source: ts}
	client := &http.Client{Transport: &bearer.Transport{Source: metered}}
	for range 3 {
		if _, err := userinfo.Fetch(context.Background(), client, zitadel.UserinfoURL()); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("tokens served:", metered.served.Load())
	fmt.Println("token requests:", zitadel.TokenRequests())
	// Output:
	// tokens served: 3
	// token requests: 1
}
