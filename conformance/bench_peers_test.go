package conformance

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/profile"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// The peers compared with serviceuser.TokenSource, each obtaining tokens for
// the same service user from the same fake ZITADEL:
//
//   - zitadel-oidc: profile.NewJWTProfileTokenSource, given the key file's
//     user, key ID and key, which signs an assertion and makes a token request on every Token call;
//   - oauth2.ReuseTokenSource over it, the usual way to add caching: a mutex
//     held across the fetch, no refresh ahead of expiry, no backoff.
const (
	peerServiceuser  = "serviceuser"
	peerZitadel      = "zitadel-oidc"
	peerReuseZitadel = "zitadel-oidc+ReuseTokenSource"
	peerReuseStatic  = "oauth2.ReuseTokenSource"
)

// benchScopes are requested by every peer.
var benchScopes = []string{"openid"}

// benchEnv is a fake ZITADEL with one service user.
type benchEnv struct {
	srv  *serviceusertest.Server
	user *serviceusertest.ServiceUser
	key  *serviceuser.KeyFile
	// reuseExpiryDelta is how long before expiry ReuseTokenSource stops
	// serving a token; zero means oauth2's default (10 s).
	reuseExpiryDelta time.Duration
}

// newBenchEnv starts a fake ZITADEL with a service user holding a key of kind.
func newBenchEnv(tb testing.TB, kind serviceusertest.KeyKind) *benchEnv {
	tb.Helper()
	srv := serviceusertest.NewServer(serviceusertest.WithECKeys())
	tb.Cleanup(srv.Close)
	user := srv.NewServiceUserWithKey(kind)
	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	if err != nil {
		tb.Fatal(err)
	}
	return &benchEnv{srv: srv, user: user, key: key}
}

// benchPeer builds a fresh, empty token source of one kind.
type benchPeer struct {
	name string
	open func(tb testing.TB, env *benchEnv) (src oauth2.TokenSource, release func())
}

var (
	benchPeerServiceuser = benchPeer{peerServiceuser, benchOpenServiceuser}
	benchPeerZitadel     = benchPeer{peerZitadel, benchOpenZitadel}
	benchPeerReuse       = benchPeer{peerReuseZitadel, benchOpenReuseZitadel}
)

// benchOpenServiceuser returns the library's token source.
func benchOpenServiceuser(_ testing.TB, env *benchEnv) (oauth2.TokenSource, func()) {
	ts := serviceuser.Config{Key: env.key, Issuer: env.srv.Issuer(), Scopes: benchScopes}.TokenSource(context.Background())
	return ts, func() { _ = ts.Close() }
}

// benchOpenZitadel returns zitadel/oidc's JWT profile source, which finds the
// token endpoint by discovery when it is made. It is the source zitadel/oidc's
// deprecated NewJWTProfileTokenSourceFromKeyFileData builds, from the same
// fields of the key file. It gets an HTTP transport of its own so that its
// connections do not linger in http.DefaultTransport.
func benchOpenZitadel(tb testing.TB, env *benchEnv) (oauth2.TokenSource, func()) {
	tb.Helper()
	var kf struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(env.user.KeyFile, &kf); err != nil {
		tb.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	src, err := profile.NewJWTProfileTokenSource(context.Background(), env.srv.Issuer(), env.user.UserID,
		env.user.KeyID, []byte(kf.Key), benchScopes, profile.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		tb.Fatal(err)
	}
	return src, tr.CloseIdleConnections
}

// benchOpenReuseZitadel wraps zitadel/oidc's source in oauth2.ReuseTokenSource.
func benchOpenReuseZitadel(tb testing.TB, env *benchEnv) (oauth2.TokenSource, func()) {
	tb.Helper()
	src, release := benchOpenZitadel(tb, env)
	if env.reuseExpiryDelta > 0 {
		return oauth2.ReuseTokenSourceWithExpiry(nil, src, env.reuseExpiryDelta), release
	}
	return oauth2.ReuseTokenSource(nil, src), release
}

// benchRunHerd releases n goroutines onto src.Token at the same moment and
// returns the first error any of them got.
func benchRunHerd(src oauth2.TokenSource, n int) error {
	start := make(chan struct{})
	errs := make(chan error, n)
	var ready, done sync.WaitGroup
	ready.Add(n)
	for range n {
		done.Go(func() {
			ready.Done()
			<-start
			if _, err := src.Token(); err != nil {
				errs <- err
			}
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
	close(errs)
	return <-errs
}

// benchCallStats is what a crowd of callers saw.
type benchCallStats struct {
	calls     int
	errors    int
	latencies []time.Duration // sorted; only when recorded
}

// quantile returns the q-quantile (0 < q <= 1) of the recorded latencies.
func (s benchCallStats) quantile(q float64) time.Duration {
	if len(s.latencies) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(s.latencies)))) - 1
	return s.latencies[max(0, min(i, len(s.latencies)-1))]
}

// slowerThan counts the calls that took longer than d.
func (s benchCallStats) slowerThan(d time.Duration) int {
	i, _ := slices.BinarySearch(s.latencies, d+1)
	return len(s.latencies) - i
}

// benchCallerPause is how long each caller waits between two Token calls: a
// worker that needs a token for every outgoing request, about once a
// millisecond each.
const benchCallerPause = time.Millisecond

// benchRunCallers has n goroutines call src.Token in a loop, pausing benchCallerPause
// between calls, until stop is closed. With record, each call's latency is
// kept.
func benchRunCallers(src oauth2.TokenSource, n int, stop <-chan struct{}, record bool) benchCallStats {
	var mu sync.Mutex
	var total benchCallStats
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			var own benchCallStats
			for {
				select {
				case <-stop:
					mu.Lock()
					total.calls += own.calls
					total.errors += own.errors
					total.latencies = append(total.latencies, own.latencies...)
					mu.Unlock()
					return
				default:
				}
				start := time.Now()
				_, err := src.Token()
				d := time.Since(start)
				own.calls++
				if err != nil {
					own.errors++
				}
				if record {
					own.latencies = append(own.latencies, d)
				}
				time.Sleep(benchCallerPause)
			}
		})
	}
	wg.Wait()
	slices.Sort(total.latencies)
	return total
}
