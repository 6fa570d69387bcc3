// Package serviceuserprom exposes what serviceuser token sources and
// introspectors do as Prometheus metrics, through the library's Hooks:
//
//	c := serviceuserprom.New("")
//	prometheus.MustRegister(c)
//	ts := serviceuser.Config{Key: key, Issuer: issuer, Hooks: c.Hooks()}.TokenSource(ctx)
//
// With namespace "serviceuser" (the default):
//
//	serviceuser_token_refreshes_total{outcome,mode,error_type,endpoint,status_code,code}
//	                                                                 token requests (ok or error; waited or ahead)
//	serviceuser_token_refresh_duration_seconds{outcome,mode,error_type}
//	serviceuser_token_remaining_lifetime_seconds                     the last token's expiry minus now
//	serviceuser_token_rejections_total{status_code,invalidate_called,retried}  API answers refusing a token
//	serviceuser_credential_reloads_total{outcome,error_type}         ok or refused
//	serviceuser_discovery_fetches_total{outcome,error_type}
//	serviceuser_discovery_duration_seconds{outcome}
//	serviceuser_introspections_total{outcome,cache_hit,active,error_type}
//	serviceuser_introspection_duration_seconds{outcome,cache_hit}
//
// The introspection cache hit ratio is
// sum(rate(serviceuser_introspections_total{cache_hit="true"}[5m])) / sum(rate(serviceuser_introspections_total[5m])).
//
// No label holds an error's text, which may carry what a server or a signer
// wrote: errors are told by their Go type (error_type) and, for a
// *serviceuser.TokenError, by its endpoint, HTTP status and a standard OAuth
// error code (any other code is "other"). A label that does not apply is
// empty.
package serviceuserprom

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/serviceuserotel/internal/describe"
)

// Collector is a prometheus.Collector of the events its Hooks receive. The
// remaining lifetime gauge follows the last token obtained by any source
// given its Hooks: give each source a Collector of its own (registered with
// prometheus.WrapRegistererWith and a label naming the source) to tell
// sources apart. Its methods are safe for concurrent use.
type Collector struct {
	refreshes             *prometheus.CounterVec
	refreshDuration       *prometheus.HistogramVec
	rejections            *prometheus.CounterVec
	reloads               *prometheus.CounterVec
	discoveries           *prometheus.CounterVec
	discoveryDuration     *prometheus.HistogramVec
	introspections        *prometheus.CounterVec
	introspectionDuration *prometheus.HistogramVec
	remaining             *prometheus.Desc

	expiry describe.Expiry
	hooks  *hooks.Hooks
}

// New makes a Collector whose metric names start with namespace and "_";
// "serviceuser" when namespace is empty.
func New(namespace string) *Collector {
	if namespace == "" {
		namespace = "serviceuser"
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	}
	seconds := func(name, help string, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: name, Help: help, Buckets: describe.DurationBuckets,
		}, labels)
	}
	c := &Collector{
		refreshes: counter("token_refreshes_total",
			"Token requests that ended, by outcome and mode (waited or ahead); failed ones also by error type, endpoint, HTTP status and OAuth error code.",
			"outcome", "mode", "error_type", "endpoint", "status_code", "code"),
		refreshDuration:   seconds("token_refresh_duration_seconds", "Duration of token requests.", "outcome", "mode", "error_type"),
		rejections:        counter("token_rejections_total", "API answers refusing a token the transport sent.", "status_code", "invalidate_called", "retried"),
		reloads:           counter("credential_reloads_total", "Changes of a watched credential file, used (ok) or refused.", "outcome", "error_type"),
		discoveries:       counter("discovery_fetches_total", "Fetches of the discovery document.", "outcome", "error_type"),
		discoveryDuration: seconds("discovery_duration_seconds", "Duration of fetches of the discovery document.", "outcome"),
		introspections: counter("introspections_total", "Introspect calls, by outcome, whether the cache answered and whether the token is active.",
			"outcome", "cache_hit", "active", "error_type"),
		introspectionDuration: seconds("introspection_duration_seconds", "Duration of Introspect calls.", "outcome", "cache_hit"),
		remaining: prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "token_remaining_lifetime_seconds"),
			"Time left until the last token obtained expires; absent before the first token.", nil, nil),
	}
	c.hooks = &hooks.Hooks{
		DiscoveryDone:      c.discoveryDone,
		RefreshDone:        c.refreshDone,
		TokenRejected:      c.tokenRejected,
		CredentialReloaded: c.credentialReloaded,
		IntrospectionDone:  c.introspectionDone,
	}
	return c
}

// Hooks returns the hooks to set on token sources' and introspectors'
// configs; the same value on every call. Combine them with others with
// hooks.Join.
func (c *Collector) Hooks() *hooks.Hooks { return c.hooks }

// collectors are the Collector's metric vectors.
func (c *Collector) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		c.refreshes, c.refreshDuration, c.rejections, c.reloads,
		c.discoveries, c.discoveryDuration, c.introspections, c.introspectionDuration,
	}
}

// Describe sends the descriptors of every metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.collectors() {
		m.Describe(ch)
	}
	ch <- c.remaining
}

// Collect sends every metric; the remaining lifetime only once a token was
// obtained.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.collectors() {
		m.Collect(ch)
	}
	if s, ok := c.expiry.Remaining(time.Now()); ok {
		ch <- prometheus.MustNewConstMetric(c.remaining, prometheus.GaugeValue, s)
	}
}

func (c *Collector) refreshDone(_ context.Context, i hooks.RefreshDoneInfo) {
	d := describe.Err(i.Err)
	outcome, mode := describe.Outcome(i.Err), describe.Mode(i.Waited)
	c.refreshes.WithLabelValues(outcome, mode, d.Type, d.Endpoint, status(d.StatusCode), d.Code).Inc()
	c.refreshDuration.WithLabelValues(outcome, mode, d.Type).Observe(i.Duration.Seconds())
	if i.Err == nil {
		c.expiry.Set(i.Expiry)
	}
}

// tokenRejected counts a refused token; TokenRejected tells of 401s only.
func (c *Collector) tokenRejected(_ context.Context, i hooks.TokenRejectedInfo) {
	c.rejections.WithLabelValues(status(http.StatusUnauthorized), strconv.FormatBool(i.InvalidateCalled), strconv.FormatBool(i.Retried)).Inc()
}

func (c *Collector) credentialReloaded(_ context.Context, i hooks.CredentialReloadedInfo) {
	c.reloads.WithLabelValues(describe.ReloadOutcome(i.Err), describe.ErrType(i.Err)).Inc()
}

func (c *Collector) discoveryDone(_ context.Context, i hooks.DiscoveryDoneInfo) {
	outcome := describe.Outcome(i.Err)
	c.discoveries.WithLabelValues(outcome, describe.ErrType(i.Err)).Inc()
	c.discoveryDuration.WithLabelValues(outcome).Observe(i.Duration.Seconds())
}

func (c *Collector) introspectionDone(_ context.Context, i hooks.IntrospectionDoneInfo) {
	outcome, hit := describe.Outcome(i.Err), strconv.FormatBool(i.CacheHit)
	active := ""
	if i.Err == nil {
		active = strconv.FormatBool(i.Active)
	}
	c.introspections.WithLabelValues(outcome, hit, active, describe.ErrType(i.Err)).Inc()
	c.introspectionDuration.WithLabelValues(outcome, hit).Observe(i.Duration.Seconds())
}

// status is an HTTP status as a label; empty when there was none.
func status(code int) string {
	if code == 0 {
		return ""
	}
	return strconv.Itoa(code)
}
