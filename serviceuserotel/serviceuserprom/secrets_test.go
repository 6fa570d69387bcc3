package serviceuserprom_test

import (
	"bytes"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/serviceuserotel/internal/hooktest"
	serviceuserprom "github.com/go-serviceuser/serviceuser/serviceuserotel/serviceuserprom"
)

const secret = "SENTINEL-7f3a9c-secret"

func TestNoLabelHoldsASecret(t *testing.T) {
	c := serviceuserprom.New("")
	hooktest.FeedEverything(c.Hooks(), secret)
	families, err := registry(t, c).Gather()
	require.NoError(t, err)
	var text bytes.Buffer
	for _, f := range families {
		_, err := expfmt.MetricFamilyToText(&text, f)
		require.NoError(t, err)
	}
	assert.Contains(t, text.String(), `error_type="*serviceuser.SignerError"`, "the check sees label values")
	assert.Contains(t, text.String(), `code="other"`)
	assert.NotContains(t, text.String(), secret)
	assert.NotContains(t, text.String(), "SENTINEL")
}
