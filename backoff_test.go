package serviceuser

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRetryDelaySchedule(t *testing.T) {
	transient := errors.New("connection refused")
	for failures := 1; failures <= 12; failures++ {
		ceiling := min(backoffMax, backoffBase<<min(failures-1, 10))
		for range 50 {
			d := retryDelay(failures, transient)
			assert.GreaterOrEqual(t, d, ceiling/2, "failure %d", failures)
			assert.LessOrEqual(t, d, ceiling, "failure %d", failures)
		}
	}
}

func TestRetryDelayPermanentAndRetryAfter(t *testing.T) {
	assert.Equal(t, permanentBackoff, retryDelay(1, &TokenError{StatusCode: 400, Code: "invalid_grant"}))
	assert.Equal(t, permanentBackoff, retryDelay(1, ErrKeyExpired))
	assert.Equal(t, permanentBackoff, retryDelay(1, &ConfigError{Field: "Issuer"}))
	assert.Equal(t, 42*time.Second, retryDelay(1, &TokenError{StatusCode: 429, RetryAfter: 42 * time.Second}))
	assert.Equal(t, backoffMax, retryDelay(1, &TokenError{StatusCode: 503, RetryAfter: time.Hour}), "Retry-After is capped")
	assert.LessOrEqual(t, retryDelay(1, &TokenError{StatusCode: 500, Code: "server_error"}), backoffBase, "Errors.Internal is retried")
}
