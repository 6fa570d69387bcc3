package answer

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var sentAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	assert.Equal(t, time.Duration(0), ParseRetryAfter("", sentAt))
	assert.Equal(t, 3*time.Second, ParseRetryAfter(" 3 ", sentAt))
	assert.Equal(t, time.Duration(0), ParseRetryAfter("soon", sentAt))
	assert.Equal(t, time.Duration(0), ParseRetryAfter(sentAt.Add(-time.Minute).Format(http.TimeFormat), sentAt))
	assert.Equal(t, time.Hour, ParseRetryAfter("99999999", sentAt), "capped")
	assert.Equal(t, 2*time.Minute, ParseRetryAfter(sentAt.Add(2*time.Minute).Format(http.TimeFormat), sentAt))
}
