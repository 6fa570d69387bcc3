package introspection

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

// testIntrospector has the cache rooms of NewIntrospector and nothing else.
func testIntrospector() *Introspector {
	return &Introspector{ttl: DefaultCacheTTL, active: newLRU(maxCached), inactive: newLRU(maxInactive)}
}

func hashOf(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// TestInactiveRoomStaysBounded: however many distinct junk tokens come, the
// inactive answers kept stay within maxInactive, the active results kept are
// all still there, and the newest inactive answers are the ones kept.
func TestInactiveRoomStaysBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := testIntrospector()
		for i := range 100 {
			in.store(hashOf(fmt.Sprint("active-", i)), &Result{Active: true})
		}
		for i := range 10 * maxInactive {
			in.store(hashOf(fmt.Sprint("junk-", i)), &Result{})
		}
		assert.Equal(t, maxInactive, in.inactive.len())
		assert.Equal(t, 100, in.active.len())
		for i := range 100 {
			r, ok := in.cached(hashOf(fmt.Sprint("active-", i)), time.Now())
			assert.True(t, ok && r.Active, "active result %d kept", i)
		}
		_, ok := in.cached(hashOf(fmt.Sprint("junk-", 10*maxInactive-1)), time.Now())
		assert.True(t, ok, "the newest inactive answer is kept")
		_, ok = in.cached(hashOf("junk-0"), time.Now())
		assert.False(t, ok, "the oldest inactive answer made room")
	})
}

// TestActiveRoomDropsLeastRecentlyUsed: a full room of active results takes
// a new one in place of the result used least recently, rather than refusing
// it, and a result in use stays.
func TestActiveRoomDropsLeastRecentlyUsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := testIntrospector()
		for i := range maxCached {
			in.store(hashOf(fmt.Sprint("active-", i)), &Result{Active: true})
		}
		_, ok := in.cached(hashOf("active-0"), time.Now()) // in use: the least recently used is now active-1
		assert.True(t, ok)
		in.store(hashOf("newest"), &Result{Active: true})
		assert.Equal(t, maxCached, in.active.len())
		for token, kept := range map[string]bool{"newest": true, "active-0": true, "active-1": false, "active-2": true} {
			_, ok := in.cached(hashOf(token), time.Now())
			assert.Equal(t, kept, ok, token)
		}
	})
}

// TestCachedAnswersEnd: an inactive answer ends after inactiveTTL, an active
// result at the token's exp or after the TTL, whichever comes first; an
// answer of the other kind for the same token replaces the one kept.
func TestCachedAnswersEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := testIntrospector()
		in.store(hashOf("inactive"), &Result{})
		in.store(hashOf("expiring"), &Result{Active: true, ExpiresAt: time.Now().Add(10 * time.Second)})
		in.store(hashOf("long"), &Result{Active: true, ExpiresAt: time.Now().Add(time.Hour)})
		in.store(hashOf("late"), &Result{})
		in.store(hashOf("late"), &Result{Active: true})
		kept := func(token string) bool { _, ok := in.cached(hashOf(token), time.Now()); return ok }
		assert.True(t, kept("inactive"))
		assert.True(t, kept("late"))
		assert.Equal(t, 1, in.inactive.len(), "late's inactive answer was replaced by its active one")
		time.Sleep(inactiveTTL)
		assert.False(t, kept("inactive"))
		assert.True(t, kept("expiring"))
		time.Sleep(10*time.Second - inactiveTTL)
		assert.False(t, kept("expiring"))
		assert.True(t, kept("long"))
		time.Sleep(DefaultCacheTTL - 10*time.Second)
		assert.False(t, kept("long"))
	})
}

// TestExpiredActiveResultNotKept: an active result whose exp has passed
// (a server that says so, or clocks apart) is not kept, and takes no room
// from results still good.
func TestExpiredActiveResultNotKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := testIntrospector()
		for i := range maxCached {
			in.store(hashOf(fmt.Sprint("active-", i)), &Result{Active: true})
		}
		for i := range 10 {
			in.store(hashOf(fmt.Sprint("expired-", i)), &Result{Active: true, ExpiresAt: time.Now().Add(-time.Second)})
		}
		assert.Equal(t, maxCached, in.active.len())
		_, ok := in.cached(hashOf("active-0"), time.Now())
		assert.True(t, ok, "the least recently used good result is kept")
	})
}
