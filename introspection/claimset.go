package introspection

import (
	"encoding/json"
	"sync"
)

// claimSet is every member of a token's claims as sent, shared by every
// Result of the token and never changed once read: an introspection
// answer's map, or a verified JWT's payload, split into one on first use,
// as most requests read the fields and never the members.
type claimSet struct {
	once sync.Once
	text string // a JWT's payload: a JSON object scanClaims has read
	m    map[string]json.RawMessage
	// idToken: one of idTokenClaims is among the members.
	idToken bool
}

// members returns the map of the members; nil for a nil set.
func (c *claimSet) members() map[string]json.RawMessage {
	if c == nil {
		return nil
	}
	c.once.Do(func() {
		if c.m == nil {
			c.m = splitMembers(c.text)
		}
	})
	return c.m
}

// splitMembers is the map of the members of text, a JSON object that
// scanClaims has read (so every name is plain), as encoding/json reads it:
// the last member of a name counts.
func splitMembers(text string) map[string]json.RawMessage {
	raw := []byte(text)
	s := scanner{data: raw}
	s.consume('{')
	m := map[string]json.RawMessage{}
	for first := true; ; first = false {
		name, value, more, _ := s.member(first)
		if !more {
			return m
		}
		m[text[name.start:name.end]] = raw[value.start:value.end:value.end] // full slice: an append reallocates
	}
}
