package serviceuser

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// inRange asserts that f's results, drawn many times, lie in [lo, hi].
func inRange(t *testing.T, lo, hi time.Duration, f func() retryPlan, msg string) {
	t.Helper()
	for range 50 {
		d := f().delay
		assert.GreaterOrEqual(t, d, lo, msg)
		assert.LessOrEqual(t, d, hi, msg)
	}
}

func TestRetryDelaySchedule(t *testing.T) {
	transient := errors.New("connection refused")
	for failures := 1; failures <= 12; failures++ {
		patient := min(backoffMax, backoffBase<<min(failures-1, 10))
		inRange(t, patient/2, patient, func() retryPlan { return retryDelay(failures, transient, false, false) }, "patient")
		urgent := min(urgentMax, patient)
		inRange(t, urgent/2, urgent, func() retryPlan { return retryDelay(failures, transient, true, false) }, "urgent")
	}
}

func TestRetryDelayQuickSteps(t *testing.T) {
	down := &TokenError{StatusCode: 503}
	notProjected := &TokenError{StatusCode: 400, Code: "invalid_request", Description: "Errors.User.Machine.Secret.NotExisting"}
	for failures := 1; failures <= 12; failures++ {
		assert.Equal(t, failures <= freshQuickRetries, retryDelay(failures, down, true, true).quick, "fresh source, failure %d", failures)
		assert.Equal(t, failures <= notProjectedQuickRetries, retryDelay(failures, notProjected, true, false).quick, "failure %d", failures)
		recovering := retryDelay(failures, down, true, false)
		assert.Equal(t, failures <= recoveringQuickRetries, recovering.quick, "failure %d", failures)
		if recovering.quick {
			step := quickBase << (failures - 1)
			inRange(t, step/2, step, func() retryPlan { return retryDelay(failures, down, true, false) }, "quick")
		} else {
			inRange(t, urgentMax/2, urgentMax, func() retryPlan { return retryDelay(failures, down, true, false) }, "probe")
		}
		assert.False(t, retryDelay(failures, down, false, false).quick, "no quick retries while a token is served")
	}
}

func TestRetryDelayPermanentGrowsFromSeconds(t *testing.T) {
	for _, err := range []error{&TokenError{StatusCode: 400, Code: "invalid_grant"}, ErrKeyExpired, &ConfigError{Field: "Issuer"}} {
		for failures := 1; failures <= 8; failures++ {
			ceiling := min(backoffMax, permanentBase<<(failures-1))
			for _, urgent := range []bool{false, true} {
				inRange(t, ceiling/2, ceiling, func() retryPlan { return retryDelay(failures, err, urgent, true) }, "permanent")
				assert.False(t, retryDelay(failures, err, urgent, true).quick)
			}
		}
	}
}

func TestSecretNotProjectedIsNotPermanent(t *testing.T) {
	te := &TokenError{StatusCode: 400, Code: "invalid_request", Description: "Errors.User.Machine.Secret.NotExisting"}
	assert.False(t, te.Permanent())
	assert.True(t, retryDelay(1, te, true, true).quick)
	assert.True(t, (&TokenError{StatusCode: 400, Code: "invalid_request", Description: "Errors.User.Machine.Secret.Invalid"}).Permanent())
}

func TestRetryDelayRetryAfter(t *testing.T) {
	limited := &TokenError{StatusCode: 429, RetryAfter: 42 * time.Second}
	inRange(t, 42*time.Second, 43*time.Second, func() retryPlan { return retryDelay(1, limited, false, false) }, "jitter on top of Retry-After")
	inRange(t, 42*time.Second, 43*time.Second, func() retryPlan { return retryDelay(1, limited, true, false) }, "429 keeps the patient ceiling")
	hour := &TokenError{StatusCode: 503, RetryAfter: time.Hour}
	inRange(t, backoffMax, backoffMax+backoffBase, func() retryPlan { return retryDelay(1, hour, false, false) }, "Retry-After is capped")
	inRange(t, urgentMax, urgentMax+backoffBase, func() retryPlan { return retryDelay(1, hour, true, false) }, "capped lower while callers wait")
	inRange(t, backoffBase/2, backoffBase, func() retryPlan { return retryDelay(1, &TokenError{StatusCode: 429}, true, false) }, "429 without Retry-After")
}
