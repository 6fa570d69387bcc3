package serviceuser

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

// testRSAKey is generated once per test binary: RSA generation is slow.
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

var testECKey = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

func pkcs1PEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testRSAKey())}))
}

func pkcs8PEM(key any) string {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// keyFileJSON writes a service account key file around keyPEM, with the
// fields in extra overriding the defaults (nil deletes a field).
func keyFileJSON(keyPEM string, extra map[string]any) []byte {
	fields := map[string]any{"type": "serviceaccount", "keyId": "kid-1", "key": keyPEM, "userId": "user-1", "expirationDate": "9999-12-31T23:59:59Z"}
	for k, v := range extra {
		if v == nil {
			delete(fields, k)
		} else {
			fields[k] = v
		}
	}
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err)
	}
	return b
}

func testKeyFile(t testing.TB) *KeyFile {
	t.Helper()
	kf, err := ParseKeyFile(keyFileJSON(pkcs1PEM(), nil))
	if err != nil {
		t.Fatal(err)
	}
	return kf
}

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// refreshGoroutines counts goroutines running a TokenSource refresh.
func refreshGoroutines() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return strings.Count(string(buf[:n]), "serviceuser.(*TokenSource).run(")
}

// requireNoRefreshGoroutines fails unless every refresh goroutine is gone.
func requireNoRefreshGoroutines(t testing.TB) {
	t.Helper()
	if n := settledRefreshGoroutines(); n > 0 {
		t.Fatalf("%d refresh goroutines still running", n)
	}
}

// settledRefreshGoroutines counts refresh goroutines, looking a few times
// while any is left: one that has signalled its end may still be unwinding.
func settledRefreshGoroutines() int {
	n := refreshGoroutines()
	for i := 0; i < 200 && n > 0; i++ {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
		n = refreshGoroutines()
	}
	return n
}

// fakeClockSource starts a fake ZITADEL and a token source for one of its
// service users, both on one fake clock, sending requests through rt.
func fakeClockSource(t *testing.T, rt http.RoundTripper) (*serviceusertest.Server, *fakeClock, *TokenSource) {
	t.Helper()
	srv := serviceusertest.NewServer()
	t.Cleanup(srv.Close)
	clock := newFakeClock()
	key, err := ParseKeyFile(srv.NewServiceUser().KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Key: key, Issuer: srv.Issuer(), HTTPClient: &http.Client{Transport: rt}}
	ts := cfg.TokenSource(context.Background())
	ts.now = clock.Now
	t.Cleanup(func() {
		ts.Close()
		requireNoRefreshGoroutines(t)
	})
	return srv, clock, ts
}

// handlerTransport answers each request by calling h in-process, so that
// tests inside a synctest bubble need no network.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// newTestSource is a token source around fetch; now, when set, replaces its clock.
func newTestSource(ctx context.Context, fetch fetchFunc, now func() time.Time) *TokenSource {
	ts := newTokenSource(ctx, fetch, apiClient{})
	if now != nil {
		ts.now = now
	}
	return ts
}

// parseResponse parses a token endpoint answer as the exchange does.
func parseResponse(resp *http.Response, body []byte, sentAt time.Time, secrets ...string) (*oauth2.Token, error) {
	return parseTokenResponse(answer{endpoint: EndpointToken, grant: GrantTypeJWTBearer, resp: resp, body: body, secrets: secrets}, sentAt)
}
