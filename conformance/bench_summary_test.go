package conformance

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// The tests below check by counting requests, never by timing, the
// properties the benchmarks measure. They use EC keys, which sign faster.

// TestColdHerdRequestCounts releases benchHerdSize first callers at once on each
// peer: serviceuser must make exactly one token request.
func TestColdHerdRequestCounts(t *testing.T) {
	env := newBenchEnv(t, serviceusertest.KeyEC)
	env.srv.SetLatency(benchHerdLatency)
	counts := map[string]int{}
	for _, peer := range []benchPeer{benchPeerServiceuser, benchPeerReuse, benchPeerZitadel} {
		src, release := peer.open(t, env)
		var err error
		counts[peer.name] = benchRequestsDuring(env, func() { err = benchRunHerd(src, benchHerdSize) })
		release()
		require.NoError(t, err, peer.name)
		t.Logf("%-30s %4d token requests for %d first callers", peer.name, counts[peer.name], benchHerdSize)
	}
	assert.Equal(t, 1, counts[peerServiceuser], "serviceuser must share one request among the herd")
}

// TestPeerPropertiesSummary checks the properties that set serviceuser apart
// from its peers.
func TestPeerPropertiesSummary(t *testing.T) {
	const herd, calls = 100, 100
	env := newBenchEnv(t, serviceusertest.KeyEC)
	fault := serviceusertest.Fault{Status: http.StatusInternalServerError}

	// Every first caller of a cold source shares one request. (So do
	// ReuseTokenSource's, which hold its mutex while one of them fetches.)
	env.srv.SetLatency(20 * time.Millisecond)
	su, release := benchOpenServiceuser(t, env)
	cold := benchRequestsDuring(env, func() { require.NoError(t, benchRunHerd(su, herd)) })
	release()
	rz, release := benchOpenReuseZitadel(t, env)
	reuseCold := benchRequestsDuring(env, func() { require.NoError(t, benchRunHerd(rz, herd)) })
	release()
	env.srv.SetLatency(0)

	// Against a failing endpoint, the calls made right after a failure get
	// its error without a request: the first retry waits at least half a
	// second, much longer than these calls take.
	env.srv.FailNext(calls, fault)
	su, release = benchOpenServiceuser(t, env)
	suFailing := benchRequestsDuring(env, func() {
		for range calls {
			_, err := su.Token()
			require.Error(t, err)
		}
	})
	release()
	env.srv.FailNext(0, fault)

	// ReuseTokenSource has no backoff: without a valid token, every call
	// sends a request.
	env.srv.FailNext(calls, fault)
	rz, release = benchOpenReuseZitadel(t, env)
	reuseFailing := benchRequestsDuring(env, func() {
		for range calls {
			_, err := rz.Token()
			require.Error(t, err)
		}
	})
	release()
	env.srv.FailNext(0, fault)

	t.Logf("| property | %s | %s |", peerServiceuser, peerReuseZitadel)
	t.Logf("| --- | --- | --- |")
	t.Logf("| token requests, %d callers on a cold source | %d | %d |", herd, cold, reuseCold)
	t.Logf("| token requests, %d calls against a failing endpoint | %d | %d |", calls, suFailing, reuseFailing)

	assert.Equal(t, 1, cold, "serviceuser: cold herd")
	// One request and the few quick retries the first caller's wait gets
	// (a fresh source), then none within the backoff window.
	assert.LessOrEqual(t, suFailing, 5, "serviceuser: requests within one backoff window")
	assert.GreaterOrEqual(t, reuseFailing, calls/2, "ReuseTokenSource over zitadel/oidc: requests for %d failing calls", calls)
}
