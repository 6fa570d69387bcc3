package serviceuserprom_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/serviceuserotel/internal/hooktest"
	serviceuserprom "github.com/go-serviceuser/serviceuser/serviceuserotel/serviceuserprom"
)

// compare checks the named metrics of c against the text exposition want.
func compare(t *testing.T, c prometheus.Collector, want string, names ...string) {
	t.Helper()
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want), names...))
}

// histogram is the histogram of family name whose labels are exactly labels.
func histogram(t *testing.T, c prometheus.Collector, name string, labels map[string]string) *dto.Histogram {
	t.Helper()
	families, err := registry(t, c).Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if assert.ObjectsAreEqual(labels, labelMap(m)) {
				return m.GetHistogram()
			}
		}
	}
	t.Fatalf("no %s with labels %v", name, labels)
	return nil
}

// labelMap is a metric's non-empty labels.
func labelMap(m *dto.Metric) map[string]string {
	var labels map[string]string
	for _, l := range m.GetLabel() {
		if l.GetValue() == "" {
			continue
		}
		if labels == nil {
			labels = map[string]string{}
		}
		labels[l.GetName()] = l.GetValue()
	}
	return labels
}

func TestRefreshIsCountedAndTimed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := serviceuserprom.New("")
		compare(t, c, "", "serviceuser_token_remaining_lifetime_seconds") // absent before the first token
		c.Hooks().RefreshDone(context.Background(), hooks.RefreshDoneInfo{Waited: true, Attempt: 1, Duration: 250 * time.Millisecond,
			Expiry: time.Now().Add(time.Hour)})
		compare(t, c, `
# HELP serviceuser_token_refreshes_total Token requests that ended, by outcome and mode (waited or ahead); failed ones also by error type, endpoint, HTTP status and OAuth error code.
# TYPE serviceuser_token_refreshes_total counter
serviceuser_token_refreshes_total{code="",endpoint="",error_type="",mode="waited",outcome="ok",status_code=""} 1
# HELP serviceuser_token_remaining_lifetime_seconds Time left until the last token obtained expires; absent before the first token.
# TYPE serviceuser_token_remaining_lifetime_seconds gauge
serviceuser_token_remaining_lifetime_seconds 3600
`, "serviceuser_token_refreshes_total", "serviceuser_token_remaining_lifetime_seconds")
		h := histogram(t, c, "serviceuser_token_refresh_duration_seconds", map[string]string{"mode": "waited", "outcome": "ok"})
		assert.Equal(t, uint64(1), h.GetSampleCount())
		assert.InDelta(t, 0.25, h.GetSampleSum(), 1e-9)

		time.Sleep(10 * time.Minute)
		assert.InDelta(t, 3000, gaugeValue(t, c), 1e-9)
		time.Sleep(2 * time.Hour)
		assert.Zero(t, gaugeValue(t, c))
	})
}

// gaugeValue is the remaining lifetime.
func gaugeValue(t *testing.T, c *serviceuserprom.Collector) float64 {
	t.Helper()
	families, err := registry(t, c).Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == "serviceuser_token_remaining_lifetime_seconds" {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no remaining lifetime")
	return 0
}

func TestFailedRefreshesByKind(t *testing.T) {
	c := serviceuserprom.New("")
	h := c.Hooks()
	h.RefreshDone(context.Background(), hooks.RefreshDoneInfo{Duration: time.Second,
		Err: &serviceuser.TokenError{StatusCode: 500, Code: "server_error", Description: "Errors.Internal"}})
	h.RefreshDone(context.Background(), hooks.RefreshDoneInfo{Waited: true, Err: &serviceuser.TokenError{StatusCode: 400, Code: "Errors.User.NotActive"}})
	h.RefreshDone(context.Background(), hooks.RefreshDoneInfo{Waited: true, Err: errors.New("dial tcp: connection refused")})
	compare(t, c, `
# HELP serviceuser_token_refreshes_total Token requests that ended, by outcome and mode (waited or ahead); failed ones also by error type, endpoint, HTTP status and OAuth error code.
# TYPE serviceuser_token_refreshes_total counter
serviceuser_token_refreshes_total{code="",endpoint="",error_type="*errors.errorString",mode="waited",outcome="error",status_code=""} 1
serviceuser_token_refreshes_total{code="other",endpoint="token",error_type="*serviceuser.TokenError",mode="waited",outcome="error",status_code="400"} 1
serviceuser_token_refreshes_total{code="server_error",endpoint="token",error_type="*serviceuser.TokenError",mode="ahead",outcome="error",status_code="500"} 1
`, "serviceuser_token_refreshes_total", "serviceuser_token_remaining_lifetime_seconds")
	hist := histogram(t, c, "serviceuser_token_refresh_duration_seconds",
		map[string]string{"mode": "ahead", "outcome": "error", "error_type": "*serviceuser.TokenError"})
	assert.InDelta(t, 1, hist.GetSampleSum(), 1e-9)
}

func TestRejectionsReloadsAndDiscovery(t *testing.T) {
	c := serviceuserprom.New("")
	h := c.Hooks()
	h.TokenRejected(context.Background(), hooks.TokenRejectedInfo{InvalidateCalled: true, Retried: true})
	h.TokenRejected(context.Background(), hooks.TokenRejectedInfo{})
	h.CredentialReloaded(context.Background(), hooks.CredentialReloadedInfo{Path: "/run/key.json", KeyID: "k2"})
	h.CredentialReloaded(context.Background(), hooks.CredentialReloadedInfo{Path: "/run/key.json", Err: &serviceuser.KeyFileError{Field: "key"}})
	h.DiscoveryDone(context.Background(), hooks.DiscoveryDoneInfo{Issuer: "https://z.example", Duration: 20 * time.Millisecond})
	h.DiscoveryDone(context.Background(), hooks.DiscoveryDoneInfo{Issuer: "https://z.example", Err: &serviceuser.DiscoveryError{StatusCode: 503}})
	compare(t, c, `
# HELP serviceuser_credential_reloads_total Changes of a watched credential file, used (ok) or refused.
# TYPE serviceuser_credential_reloads_total counter
serviceuser_credential_reloads_total{error_type="",outcome="ok"} 1
serviceuser_credential_reloads_total{error_type="*serviceuser.KeyFileError",outcome="refused"} 1
# HELP serviceuser_discovery_fetches_total Fetches of the discovery document.
# TYPE serviceuser_discovery_fetches_total counter
serviceuser_discovery_fetches_total{error_type="",outcome="ok"} 1
serviceuser_discovery_fetches_total{error_type="*serviceuser.DiscoveryError",outcome="error"} 1
# HELP serviceuser_token_rejections_total API answers refusing a token the transport sent.
# TYPE serviceuser_token_rejections_total counter
serviceuser_token_rejections_total{invalidate_called="false",retried="false",status_code="401"} 1
serviceuser_token_rejections_total{invalidate_called="true",retried="true",status_code="401"} 1
`, "serviceuser_credential_reloads_total", "serviceuser_discovery_fetches_total", "serviceuser_token_rejections_total")
	assert.InDelta(t, 0.02, histogram(t, c, "serviceuser_discovery_duration_seconds", map[string]string{"outcome": "ok"}).GetSampleSum(), 1e-9)
}

func TestIntrospectionCacheHitRatioIsDerivable(t *testing.T) {
	c := serviceuserprom.New("")
	h := c.Hooks()
	for range 3 {
		h.IntrospectionDone(context.Background(), hooks.IntrospectionDoneInfo{CacheHit: true, Active: true, Duration: time.Microsecond})
	}
	h.IntrospectionDone(context.Background(), hooks.IntrospectionDoneInfo{Active: false, Duration: 30 * time.Millisecond})
	h.IntrospectionDone(context.Background(), hooks.IntrospectionDoneInfo{Err: &serviceuser.TokenError{Endpoint: serviceuser.EndpointIntrospection, StatusCode: 503}})
	compare(t, c, `
# HELP serviceuser_introspections_total Introspect calls, by outcome, whether the cache answered and whether the token is active.
# TYPE serviceuser_introspections_total counter
serviceuser_introspections_total{active="",cache_hit="false",error_type="*serviceuser.TokenError",outcome="error"} 1
serviceuser_introspections_total{active="false",cache_hit="false",error_type="",outcome="ok"} 1
serviceuser_introspections_total{active="true",cache_hit="true",error_type="",outcome="ok"} 3
`, "serviceuser_introspections_total")
	assert.Equal(t, uint64(3), histogram(t, c, "serviceuser_introspection_duration_seconds",
		map[string]string{"outcome": "ok", "cache_hit": "true"}).GetSampleCount())
}

func TestNamesFollowPrometheusConventions(t *testing.T) {
	c := serviceuserprom.New("myapp")
	hooktest.FeedEverything(c.Hooks(), "nothing secret")
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	assert.Empty(t, problems)
	n, err := testutil.GatherAndCount(registry(t, c))
	require.NoError(t, err)
	assert.Positive(t, n)
	families, err := registry(t, c).Gather()
	require.NoError(t, err)
	assert.Len(t, families, 9, "every metric, the gauge included")
	for _, f := range families {
		assert.True(t, strings.HasPrefix(f.GetName(), "myapp_"), f.GetName())
	}
}

// registry is a pedantic registry holding c alone.
func registry(t *testing.T, c prometheus.Collector) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	return reg
}

// TestAFailedRefreshIsCountedOnce: one failed token request adds one to one
// series of one counter, so that summing the failures counts it once.
func TestAFailedRefreshIsCountedOnce(t *testing.T) {
	c := serviceuserprom.New("")
	c.Hooks().RefreshDone(context.Background(), hooks.RefreshDoneInfo{Waited: true, Err: &serviceuser.TokenError{StatusCode: 400, Code: "invalid_grant"}})
	families, err := registry(t, c).Gather()
	require.NoError(t, err)
	var failures []string
	for _, f := range families {
		if f.GetType() != dto.MetricType_COUNTER {
			continue
		}
		for _, m := range f.GetMetric() {
			if l := labelMap(m); l["outcome"] == "error" || l["error_type"] != "" {
				failures = append(failures, f.GetName())
			}
		}
	}
	assert.Equal(t, []string{"serviceuser_token_refreshes_total"}, failures)
}
