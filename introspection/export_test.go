package introspection

// The retry bounds, for the tests of package introspection_test.
const (
	MaxAttempts     = maxAttempts
	BreakerFailures = breakerFailures
)
