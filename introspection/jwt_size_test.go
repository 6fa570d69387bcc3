package introspection_test

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/introspection"
)

// A JWT-shaped token over the 16 KiB bound is refused before it is hashed
// or copied: a megabyte of header costs the API no megabyte of its own.
func TestHugeJWTNotCopied(t *testing.T) {
	in, p := keySetIntrospector(t, introspection.ModeJWTOrIntrospect)
	huge := "eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("A", 1<<20) + ".AAAA"
	const runs = 10
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		r, err := in.Introspect(context.Background(), huge)
		require.NoError(t, err)
		require.False(t, r.Active)
	}
	runtime.ReadMemStats(&after)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated for %d huge tokens", runs)
	assert.Zero(t, p.count("zitadel.example/oauth/v2/keys"), "nor does it cost a key set request")
}
