package introspection

import (
	"container/list"
	"time"
)

// maxCached bounds the active results kept: the cache's memory.
const maxCached = 10000

// maxInactive bounds the inactive answers kept, in a room of their own: a
// flood of distinct junk tokens churns that room and never crowds active
// results out of theirs. It lets 200 clients a second retry a revoked token
// at the cost of one introspection each per inactiveTTL.
const maxInactive = 1000

// lru is a bounded map of introspection answers by token hash. When full it
// drops the entry used least recently; an entry also ends at its own time.
// It is not safe for concurrent use.
type lru struct {
	max   int
	items map[[32]byte]*list.Element // values are *cachedResult
	order list.List                  // least recently used first
}

type cachedResult struct {
	key    [32]byte
	result *Result
	until  time.Time
}

func newLRU(max int) *lru {
	return &lru{max: max, items: map[[32]byte]*list.Element{}}
}

// get returns the answer kept for key, if it has not ended by now.
func (c *lru) get(key [32]byte, now time.Time) (*Result, bool) {
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	entry := e.Value.(*cachedResult)
	if !now.Before(entry.until) {
		c.remove(key)
		return nil, false
	}
	c.order.MoveToBack(e)
	return entry.result, true
}

// put keeps r for key until then, dropping the least recently used entry
// when the room is full.
func (c *lru) put(key [32]byte, r *Result, until time.Time) {
	if e, ok := c.items[key]; ok {
		e.Value = &cachedResult{key: key, result: r, until: until}
		c.order.MoveToBack(e)
		return
	}
	if len(c.items) >= c.max {
		c.remove(c.order.Front().Value.(*cachedResult).key)
	}
	c.items[key] = c.order.PushBack(&cachedResult{key: key, result: r, until: until})
}

// remove drops key's entry, if any.
func (c *lru) remove(key [32]byte) {
	if e, ok := c.items[key]; ok {
		c.order.Remove(e)
		delete(c.items, key)
	}
}

// len is the number of entries, ended ones not yet dropped included.
func (c *lru) len() int { return len(c.items) }
