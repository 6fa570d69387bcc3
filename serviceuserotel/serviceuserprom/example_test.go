package serviceuserprom_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	serviceuserprom "github.com/go-serviceuser/serviceuser/serviceuserotel/serviceuserprom"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// A token source's work becomes Prometheus metrics. Here a registry of its
// own is read with testutil; in a service, register the Collector with
// prometheus.MustRegister and serve promhttp.Handler().
func ExampleNew() {
	ctx := context.Background()
	metrics := serviceuserprom.New("")
	registry := prometheus.NewRegistry()
	registry.MustRegister(metrics)

	zitadel := serviceusertest.NewServer() // stands in for https://my-instance.zitadel.cloud
	defer zitadel.Close()
	key, err := serviceuser.ParseKeyFile(zitadel.NewServiceUser().KeyFile)
	if err != nil {
		log.Fatal(err)
	}
	ts := serviceuser.Config{Key: key, Issuer: zitadel.Issuer(), Hooks: metrics.Hooks()}.TokenSource(ctx)
	defer ts.Close()
	if _, err := ts.Token(); err != nil {
		log.Fatal(err)
	}

	err = testutil.GatherAndCompare(registry, strings.NewReader(`
# HELP serviceuser_token_refreshes_total Token requests that ended, by outcome and mode (waited or ahead); failed ones also by error type, endpoint, HTTP status and OAuth error code.
# TYPE serviceuser_token_refreshes_total counter
serviceuser_token_refreshes_total{code="",endpoint="",error_type="",mode="waited",outcome="ok",status_code=""} 1
# HELP serviceuser_discovery_fetches_total Fetches of the discovery document.
# TYPE serviceuser_discovery_fetches_total counter
serviceuser_discovery_fetches_total{error_type="",outcome="ok"} 1
`), "serviceuser_token_refreshes_total", "serviceuser_discovery_fetches_total")
	fmt.Println("as expected:", err == nil)
	// Output:
	// as expected: true
}

// Several token sources: one Collector each, told apart by a constant label.
func ExampleCollector_Hooks() {
	registry := prometheus.NewRegistry()
	for _, name := range []string{"billing", "reports"} {
		c := serviceuserprom.New("")
		prometheus.WrapRegistererWith(prometheus.Labels{"source": name}, registry).MustRegister(c)
		c.Hooks().TokenRejected(context.Background(), hooks.TokenRejectedInfo{InvalidateCalled: true, Retried: true})
	}
	n, err := testutil.GatherAndCount(registry, "serviceuser_token_rejections_total")
	fmt.Println(n, err)
	// Output:
	// 2 <nil>
}
