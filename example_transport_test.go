package serviceuser_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"sync/atomic"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
	"golang.org/x/oauth2"
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
	_ serviceuser.ContextTokenSource = (*meteredSource)(nil)
	_ serviceuser.Invalidator        = (*meteredSource)(nil)
)

func (m *meteredSource) Token() (*oauth2.Token, error) {
	return m.TokenContext(context.Background())
}

func (m *meteredSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	m.served.Add(1)
	return m.source.TokenContext(ctx)
}

func (m *meteredSource) Invalidate(tok *oauth2.Token) { m.source.Invalidate(tok) }

func ExampleTransport() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	key := exampleKey(zitadel)
	ts := serviceuser.Config{Key: key, Issuer: zitadel.Issuer()}.TokenSource(context.Background())
	defer ts.Close()

	metered := &meteredSource{source: ts}
	client := &http.Client{Transport: &serviceuser.Transport{Source: metered}}
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
