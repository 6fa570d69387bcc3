package serviceuserotel_test

import (
	"context"
	"fmt"
	"log"
	"sort"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-serviceuser/serviceuser"
	serviceuserotel "github.com/go-serviceuser/serviceuser/serviceuserotel"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// A token source's work becomes OpenTelemetry metrics and spans. Here an
// in-memory reader and span recorder stand in for an exporter; in a service,
// leave out the options to use the global providers.
func ExampleNew() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	meters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer meters.Shutdown(ctx)
	spans := tracetest.NewSpanRecorder()
	tracers := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tracers.Shutdown(ctx)

	rec, err := serviceuserotel.New(serviceuserotel.WithMeterProvider(meters), serviceuserotel.WithTracerProvider(tracers))
	if err != nil {
		log.Fatal(err)
	}
	defer rec.Close()

	zitadel := serviceusertest.NewServer() // stands in for https://my-instance.zitadel.cloud
	defer zitadel.Close()
	key, err := serviceuser.ParseKeyFile(zitadel.NewServiceUser().KeyFile)
	if err != nil {
		log.Fatal(err)
	}
	ts := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Hooks: rec.Hooks()}.TokenSource(ctx)
	defer ts.Close()
	if _, err := ts.Token(); err != nil {
		log.Fatal(err)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	var lines []string
	for _, m := range rm.ScopeMetrics[0].Metrics {
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			for _, p := range d.DataPoints {
				lines = append(lines, fmt.Sprintf("%s = %d", m.Name, p.Value))
			}
		case metricdata.Histogram[float64]:
			for _, p := range d.DataPoints {
				lines = append(lines, fmt.Sprintf("%s: %d recorded", m.Name, p.Count))
			}
		case metricdata.Gauge[float64]:
			for _, p := range d.DataPoints {
				lines = append(lines, fmt.Sprintf("%s about 12h: %t", m.Name, p.Value > 12*3600-60))
			}
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	for _, s := range spans.Ended() {
		fmt.Println("span:", s.Name(), s.Status().Code)
	}
	// Output:
	// serviceuser.discovery.duration: 1 recorded
	// serviceuser.discovery.fetches = 1
	// serviceuser.token.refresh.duration: 1 recorded
	// serviceuser.token.refreshes = 1
	// serviceuser.token.remaining_lifetime about 12h: true
	// span: serviceuser.token.refresh Unset
}
