package serviceuser

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/answer"
	"github.com/go-serviceuser/serviceuser/internal/exchange"
	"github.com/go-serviceuser/serviceuser/internal/keytest"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

// The keys and key files of the tests (see package keytest).
var (
	testRSAKey  = keytest.RSA
	testECKey   = keytest.EC
	pkcs1PEM    = keytest.PKCS1PEM
	pkcs8PEM    = keytest.PKCS8PEM
	keyFileJSON = keytest.JSON
)

func testKeyFile(t testing.TB) *KeyFile {
	t.Helper()
	kf, err := ParseKeyFile(keyFileJSON(pkcs1PEM(), nil))
	if err != nil {
		t.Fatal(err)
	}
	return kf
}

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeSource starts an in-process fake ZITADEL and a token source for one of
// its service users, sending requests through wrap(the fake's transport).
// Inside a synctest bubble both run on the bubble's clock.
func fakeSource(t *testing.T, wrap func(http.RoundTripper) http.RoundTripper) (*serviceusertest.Server, *TokenSource) {
	t.Helper()
	srv := serviceusertest.NewServer(serviceusertest.InProcess())
	t.Cleanup(srv.Close)
	key, err := ParseKeyFile(srv.NewServiceUser().KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Key: key, Issuer: srv.Issuer(), HTTPClient: &http.Client{Transport: wrap(srv.Transport())}}
	ts := cfg.TokenSource(context.Background())
	t.Cleanup(func() { ts.Close() })
	return srv, ts
}

// inProcess serves every request with h, whatever its host, counting requests
// by host and path. Unlike a listening server it works inside a synctest
// bubble, where real network I/O is not durably blocking.
type inProcess struct {
	h    http.Handler
	mu   sync.Mutex
	hits map[string]int // "host/path"
}

func newInProcess(h http.Handler) *inProcess {
	return &inProcess{h: h, hits: map[string]int{}}
}

func (p *inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	p.mu.Lock()
	p.hits[r.URL.Host+r.URL.Path]++
	p.mu.Unlock()
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, r)
	if r.Body != nil {
		r.Body.Close()
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

func (p *inProcess) count(hostPath string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[hostPath]
}

// hostHits counts the requests that went to host, whatever the path.
func (p *inProcess) hostHits(host string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for k, v := range p.hits {
		if strings.HasPrefix(k, host+"/") {
			n += v
		}
	}
	return n
}

func (p *inProcess) client() *http.Client { return &http.Client{Transport: p} }

// newTestSource is a token source around fetch, with a config's defaults.
func newTestSource(ctx context.Context, fetch func(context.Context) (*oauth2.Token, error)) *TokenSource {
	return newTokenSource(ctx, fetch, sourceOptions{budget: DefaultTimeout})
}

// parseResponse parses a token endpoint answer as the exchange does.
func parseResponse(resp *http.Response, body []byte, sentAt time.Time, secrets ...string) (*oauth2.Token, error) {
	tok, failed := exchange.Parse(answer.Answer{Endpoint: EndpointToken, Grant: grantTypeJWTBearer, Resp: resp, Body: body, Secrets: secrets, Sent: sentAt})
	if failed != nil {
		return nil, tokenError(failed)
	}
	return tok, nil
}
