package serviceuserotel

import (
	"errors"

	"go.opentelemetry.io/otel/metric"

	"github.com/go-serviceuser/serviceuser/serviceuserotel/internal/describe"
)

// instruments are the Recorder's metrics.
type instruments struct {
	refreshes             metric.Int64Counter
	refreshDuration       metric.Float64Histogram
	remaining             metric.Float64ObservableGauge
	rejections            metric.Int64Counter
	reloads               metric.Int64Counter
	discoveries           metric.Int64Counter
	discoveryDuration     metric.Float64Histogram
	introspections        metric.Int64Counter
	introspectionDuration metric.Float64Histogram
}

// init makes every instrument; the errors of all that failed are joined.
func (in *instruments) init(m metric.Meter) error {
	var errs []error
	keep := func(err error) { errs = append(errs, err) }
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		keep(err)
		return c
	}
	seconds := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(describe.DurationBuckets...))
		keep(err)
		return h
	}
	in.refreshes = counter("serviceuser.token.refreshes", "{refresh}",
		"Token requests that ended, by outcome and mode; failed ones also by error type, endpoint, HTTP status and OAuth error code.")
	in.refreshDuration = seconds("serviceuser.token.refresh.duration", "Duration of token requests.")
	in.rejections = counter("serviceuser.token.rejections", "{rejection}", "API answers refusing a token the transport sent.")
	in.reloads = counter("serviceuser.credential.reloads", "{reload}", "Changes of a watched credential file, used (ok) or refused.")
	in.discoveries = counter("serviceuser.discovery.fetches", "{fetch}", "Fetches of the discovery document.")
	in.discoveryDuration = seconds("serviceuser.discovery.duration", "Duration of fetches of the discovery document.")
	in.introspections = counter("serviceuser.introspections", "{introspection}", "Introspect calls, by outcome and whether the cache answered.")
	in.introspectionDuration = seconds("serviceuser.introspection.duration", "Duration of Introspect calls.")
	g, err := m.Float64ObservableGauge("serviceuser.token.remaining_lifetime", metric.WithUnit("s"),
		metric.WithDescription("Time left until the last token obtained expires; absent before the first token."))
	keep(err)
	in.remaining = g
	return errors.Join(errs...)
}
