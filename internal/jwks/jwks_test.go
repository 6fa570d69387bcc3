package jwks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-serviceuser/serviceuser/internal/discovery"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const keysURL = "https://zitadel.example/oauth/v2/keys"

// testKeys are made once: RSA key generation is slow.
var testKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	var out []*rsa.PrivateKey
	for range 2 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		out = append(out, k)
	}
	return out
})

// rsaJWK is the JSON Web Key of pub as ZITADEL writes it.
func rsaJWK(kid string, pub *rsa.PublicKey) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes())}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// server is a key set endpoint: it serves body and header, and counts requests.
type server struct {
	mu       sync.Mutex
	keys     []map[string]any
	status   int
	header   http.Header
	requests atomic.Int32
	block    chan struct{} // when set, each request waits for it
	panics   bool
	raw      string // when set, the body instead of keys
}

func newServer(keys ...map[string]any) *server {
	return &server{keys: keys, status: http.StatusOK, header: http.Header{"Cache-Control": {"max-age=300, must-revalidate"}}}
}

func (s *server) RoundTrip(r *http.Request) (*http.Response, error) {
	s.requests.Add(1)
	if r.URL.String() != keysURL || r.Method != http.MethodGet {
		return nil, fmt.Errorf("unexpected %s %s", r.Method, r.URL)
	}
	s.mu.Lock()
	block, panics := s.block, s.panics
	body, _ := json.Marshal(map[string]any{"keys": s.keys})
	if s.raw != "" {
		body = []byte(s.raw)
	}
	resp := &http.Response{StatusCode: s.status, Header: s.header.Clone(), Body: io.NopCloser(strings.NewReader(string(body)))}
	s.mu.Unlock()
	if panics {
		panic("round tripper bug")
	}
	if block != nil {
		<-block
	}
	return resp, nil
}

func (s *server) set(f func(*server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// newSet is a Set fetching from s.
func newSet(s *server) *Set {
	c := httpcall.New(&http.Client{Transport: s}, 10*time.Second)
	return New(c, func(context.Context) (string, error) { return keysURL, nil },
		func(e *discovery.Error) error { return fmt.Errorf("wrapped: %w", errors.New(e.Problem)) })
}

func TestKeyByKid(t *testing.T) {
	synctestRun(t, func(t *testing.T) {
		k := testKeys()
		s := newServer(rsaJWK("a", &k[0].PublicKey), rsaJWK("b", &k[1].PublicKey))
		set := newSet(s)
		for _, c := range []struct {
			kid  string
			want *rsa.PublicKey
		}{{"a", &k[0].PublicKey}, {"b", &k[1].PublicKey}, {"a", &k[0].PublicKey}} {
			got, err := set.Key(context.Background(), c.kid)
			require.NoError(t, err)
			require.True(t, c.want.Equal(got), c.kid)
		}
		require.EqualValues(t, 1, s.requests.Load(), "one fetch for both keys")

		// Kept for max-age=300, then fetched again.
		time.Sleep(299 * time.Second)
		_, err := set.Key(context.Background(), "a")
		require.NoError(t, err)
		require.EqualValues(t, 1, s.requests.Load())
		time.Sleep(time.Second)
		_, err = set.Key(context.Background(), "a")
		require.NoError(t, err)
		require.EqualValues(t, 2, s.requests.Load(), "max-age has passed")
	})
}

// A flood of tokens naming kids the set does not hold costs at most one
// request per RefetchInterval, however many callers, at once or not.
func TestUnknownKidRefetchBounded(t *testing.T) {
	synctestRun(t, func(t *testing.T) {
		k := testKeys()
		s := newServer(rsaJWK("a", &k[0].PublicKey))
		set := newSet(s)
		_, err := set.Key(context.Background(), "a")
		require.NoError(t, err)

		flood := func() {
			var wg sync.WaitGroup
			for i := range 100 {
				wg.Go(func() {
					_, err := set.Key(context.Background(), fmt.Sprintf("random-%d", i))
					require.ErrorIs(t, err, ErrUnknownKey)
				})
			}
			wg.Wait()
		}
		flood()
		require.EqualValues(t, 1, s.requests.Load(), "fetched moments ago: no refetch")
		time.Sleep(RefetchInterval)
		s.set(func(s *server) { s.block = make(chan struct{}) })
		go flood()
		time.Sleep(time.Millisecond)
		require.EqualValues(t, 2, s.requests.Load(), "one refetch shared by every caller")
		s.set(func(s *server) { close(s.block); s.block = nil })
		time.Sleep(RefetchInterval - 2*time.Millisecond)
		flood()
		require.EqualValues(t, 2, s.requests.Load())

		// A key published meanwhile is found by the next refetch.
		s.set(func(s *server) { s.keys = append(s.keys, rsaJWK("b", &k[1].PublicKey)) })
		time.Sleep(2 * time.Millisecond)
		got, err := set.Key(context.Background(), "b")
		require.NoError(t, err)
		require.True(t, k[1].PublicKey.Equal(got))
		require.EqualValues(t, 3, s.requests.Load())
	})
}

// Keys that cannot verify RS256 are refused by name, with no refetch.
func TestRefusedKeys(t *testing.T) {
	synctestRun(t, func(t *testing.T) {
		short, err := rsa.GenerateKey(rand.Reader, 1024)
		require.NoError(t, err)
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		good := &testKeys()[0].PublicKey
		ps := rsaJWK("ps", good)
		ps["alg"] = "PS256"
		enc := rsaJWK("enc", good)
		enc["use"] = "enc"
		badN := rsaJWK("badn", good)
		badN["n"] = "!!"
		badE := rsaJWK("bade", good)
		badE["e"] = b64([]byte{1, 0})
		s := newServer(
			rsaJWK("short", &short.PublicKey), ps, enc, badN, badE,
			map[string]any{"kty": "EC", "kid": "ec", "crv": "P-256", "x": b64(ec.X.Bytes()), "y": b64(ec.Y.Bytes())},
			map[string]any{"kty": "oct", "kid": "hmac", "k": b64([]byte("secret"))},
			rsaJWK("dup", good), rsaJWK("dup", good), rsaJWK("", good), rsaJWK("ok", good),
		)
		set := newSet(s)
		for kid, problem := range map[string]string{
			"short": "1024-bit key, under 2048", "ps": `meant for "PS256", not RS256`,
			"enc": `meant for use "enc", not signatures`, "badn": "malformed modulus", "bade": "bad exponent",
			"ec": `not an RSA key (kty "EC")`, "hmac": `not an RSA key (kty "oct")`, "dup": "two keys of the set share this kid",
		} {
			k, err := set.Key(context.Background(), kid)
			require.Nil(t, k, kid)
			var ke *KeyError
			require.ErrorAs(t, err, &ke, kid)
			require.Equal(t, &KeyError{KID: kid, Problem: problem}, ke)
		}
		_, err = set.Key(context.Background(), "ok")
		require.NoError(t, err)
		_, err = set.Key(context.Background(), "")
		require.ErrorIs(t, err, ErrUnknownKey)
		require.EqualValues(t, 1, s.requests.Load())
	})
}
