package cache

import (
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
	transient := Class{Kind: Transient}
	for failures := 1; failures <= 12; failures++ {
		patient := min(BackoffMax, BackoffBase<<min(failures-1, 10))
		inRange(t, patient/2, patient, func() retryPlan { return retryDelay(failures, transient, false, false) }, "patient")
		urgent := min(UrgentMax, patient)
		inRange(t, urgent/2, urgent, func() retryPlan { return retryDelay(failures, transient, true, false) }, "urgent")
	}
}

func TestRetryDelayQuickSteps(t *testing.T) {
	down := Class{Kind: Quick}
	lagging := Class{Kind: Quick, Lagging: true}
	for failures := 1; failures <= 12; failures++ {
		assert.Equal(t, failures <= FreshQuickRetries, retryDelay(failures, down, true, true).quick, "fresh cache, failure %d", failures)
		assert.Equal(t, failures <= laggingQuickRetries, retryDelay(failures, lagging, true, false).quick, "failure %d", failures)
		recovering := retryDelay(failures, down, true, false)
		assert.Equal(t, failures <= RecoveringQuickRetries, recovering.quick, "failure %d", failures)
		if recovering.quick {
			step := quickBase << (failures - 1)
			inRange(t, step/2, step, func() retryPlan { return retryDelay(failures, down, true, false) }, "quick")
		} else {
			inRange(t, UrgentMax/2, UrgentMax, func() retryPlan { return retryDelay(failures, down, true, false) }, "probe")
		}
		assert.False(t, retryDelay(failures, down, false, false).quick, "no quick retries while a token is served")
	}
}

func TestRetryDelayPermanentGrowsFromSeconds(t *testing.T) {
	permanent := Class{Kind: Permanent}
	for failures := 1; failures <= 8; failures++ {
		ceiling := min(BackoffMax, permanentBase<<(failures-1))
		for _, urgent := range []bool{false, true} {
			inRange(t, ceiling/2, ceiling, func() retryPlan { return retryDelay(failures, permanent, urgent, true) }, "permanent")
			assert.False(t, retryDelay(failures, permanent, urgent, true).quick)
		}
	}
}

func TestRetryDelayRetryAfter(t *testing.T) {
	overloaded := Class{Kind: RateLimited, RetryAfter: 42 * time.Second, Overloaded: true}
	inRange(t, 42*time.Second, 43*time.Second, func() retryPlan { return retryDelay(1, overloaded, false, false) }, "jitter on top of Retry-After")
	inRange(t, 42*time.Second, 43*time.Second, func() retryPlan { return retryDelay(1, overloaded, true, false) }, "429 keeps the patient ceiling")
	hour := Class{Kind: RateLimited, RetryAfter: time.Hour}
	inRange(t, BackoffMax, BackoffMax+BackoffBase, func() retryPlan { return retryDelay(1, hour, false, false) }, "Retry-After is capped")
	inRange(t, UrgentMax, UrgentMax+BackoffBase, func() retryPlan { return retryDelay(1, hour, true, false) }, "capped lower while callers wait")
	inRange(t, BackoffBase/2, BackoffBase, func() retryPlan { return retryDelay(1, Class{Kind: RateLimited, Overloaded: true}, true, false) }, "429 without Retry-After")
	assert.True(t, retryDelay(1, hour, true, false).quick, "retried within the callers' wait")
}

// TestRetryAfterJitterStaysSmall: the jitter on top of a Retry-After is at
// most a quarter of it (at least BackoffBase), however many failures came
// before: after a long outage, a 429 saying "come back in 14 s" is not
// answered a minute later.
func TestRetryAfterJitterStaysSmall(t *testing.T) {
	for _, after := range []time.Duration{time.Second, 4 * time.Second, 14 * time.Second, 29 * time.Second} {
		limited := Class{Kind: RateLimited, RetryAfter: after, Overloaded: true}
		most := after + max(BackoffBase, after/4)
		for failures := 1; failures <= 40; failures++ {
			for _, urgent := range []bool{false, true} {
				inRange(t, after, most, func() retryPlan { return retryDelay(failures, limited, urgent, false) }, "Retry-After plus jitter")
			}
		}
	}
}
