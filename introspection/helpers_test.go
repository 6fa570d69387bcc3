package introspection_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testRSAKey is generated once per test binary: RSA generation is slow.
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// applicationKey is an API application's key that only the in-process
// fakes below accept.
func applicationKey(t *testing.T) *serviceuser.KeyFile {
	t.Helper()
	kf, err := serviceuser.NewApplicationSignerKey(testRSAKey(), "kid-1", "client-1")
	require.NoError(t, err)
	return kf
}

func mustKey(t *testing.T, data []byte) *serviceuser.KeyFile {
	t.Helper()
	k, err := serviceuser.ParseKeyFile(data)
	require.NoError(t, err)
	return k
}

// fakeIssuer is the issuer the in-process fakes below answer for.
const fakeIssuer = "https://zitadel.example"

const discoveryPath = "/.well-known/openid-configuration"

// discoveryHandler answers with a discovery document for fakeIssuer, the
// members in extra overriding the defaults (nil deletes a member).
func discoveryHandler(extra map[string]any) http.HandlerFunc {
	doc := map[string]any{
		"issuer":                 fakeIssuer,
		"token_endpoint":         fakeIssuer + "/oauth/v2/token",
		"introspection_endpoint": fakeIssuer + "/oauth/v2/introspect",
	}
	for k, v := range extra {
		if v == nil {
			delete(doc, k)
		} else {
			doc[k] = v
		}
	}
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(doc)
	}
}

// inProcess serves every request with h, whatever its host, counting requests
// by host and path. Unlike a listening server it works inside a synctest
// bubble.
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

// serviceUserToken is a token of a new service user of srv, with extra scopes.
func serviceUserToken(t *testing.T, srv *serviceusertest.Server, scopes ...string) (*serviceusertest.ServiceUser, string) {
	t.Helper()
	user := srv.NewServiceUser()
	cfg := serviceuser.Config{Key: mustKey(t, user.KeyFile), Issuer: srv.Issuer(), Scopes: append([]string{"openid"}, scopes...)}
	tok, err := cfg.Token(context.Background())
	require.NoError(t, err)
	return user, tok.AccessToken
}
