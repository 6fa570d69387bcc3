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
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
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
	kf, err := serviceuser.NewSignerKey(testRSAKey(), serviceuser.KeyFile{Type: serviceuser.KeyTypeApplication, KeyID: "kid-1", ClientID: "client-1"})
	require.NoError(t, err)
	return kf
}

func mustKey(t testing.TB, data []byte) *serviceuser.KeyFile {
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

// inProcess answers every request with h in the caller's goroutine, so that
// it works inside a synctest bubble, and counts requests by host and path.
type inProcess struct {
	h    http.Handler
	hits sync.Map // "host/path" -> *atomic.Int32
}

func newInProcess(h http.Handler) *inProcess { return &inProcess{h: h} }

func (p *inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	n, _ := p.hits.LoadOrStore(r.URL.Host+r.URL.Path, new(atomic.Int32))
	n.(*atomic.Int32).Add(1)
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// count is how many requests went to hostPath ("host/path").
func (p *inProcess) count(hostPath string) int {
	if n, ok := p.hits.Load(hostPath); ok {
		return int(n.(*atomic.Int32).Load())
	}
	return 0
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

// opaqueToken is name (letters, digits, '-' and '_') padded to the 104
// characters of ZITADEL's opaque tokens: a token the introspector asks
// about rather than refusing it for its shape.
func opaqueToken(name string) string { return name + strings.Repeat("0", 104-len(name)) }

// answered is the Result of an introspection answer, as a handler's test
// makes one.
func answered(t testing.TB, answer string) *introspection.Result {
	t.Helper()
	var r introspection.Result
	require.NoError(t, json.Unmarshal([]byte(answer), &r))
	return &r
}
