package serviceuserotel_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/go-serviceuser/serviceuser/serviceuserotel/internal/hooktest"
)

const secret = "SENTINEL-7f3a9c-secret"

func TestNoAttributeHoldsASecret(t *testing.T) {
	r := newRig(t)
	hooktest.FeedEverything(r.hooks, secret)

	var seen []string
	add := func(set attribute.Set) {
		for _, kv := range set.ToSlice() {
			seen = append(seen, string(kv.Key)+"="+kv.Value.String())
		}
	}
	for _, m := range r.collect(t) {
		seen = append(seen, m.Name, m.Description, m.Unit)
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			for _, dp := range d.DataPoints {
				add(dp.Attributes)
			}
		case metricdata.Histogram[float64]:
			for _, dp := range d.DataPoints {
				add(dp.Attributes)
			}
		case metricdata.Gauge[float64]:
			for _, dp := range d.DataPoints {
				add(dp.Attributes)
			}
		default:
			t.Fatalf("unexpected %T", d)
		}
	}
	spans := r.spans.Ended()
	require.Len(t, spans, 1+len(hooktest.Errors(secret)))
	for _, s := range spans {
		seen = append(seen, s.Name(), s.Status().Description, fmt.Sprint(s.Events()), fmt.Sprint(s.Links()))
		add(attribute.NewSet(s.Attributes()...))
	}

	all := strings.Join(seen, "\n")
	assert.Contains(t, all, "error.type=*serviceuser.SignerError", "the check sees attribute values")
	assert.Contains(t, all, "serviceuser.error.code=other")
	assert.NotContains(t, all, secret)
	assert.NotContains(t, all, "SENTINEL")
}
