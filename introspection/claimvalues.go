package introspection

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// field reads the member name of claims, if present, into v.
func field(claims map[string]json.RawMessage, name string, v any) error {
	raw, ok := claims[name]
	if !ok {
		return nil
	}
	return decodeField(name, raw, v)
}

// decodeField reads raw, the member name, into v.
func decodeField(name string, raw []byte, v any) error {
	if s, ok := v.(*string); ok && plainString(raw) {
		*s = string(raw[1 : len(raw)-1]) // the usual claim, read without reflection
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("introspection: %q: %w", name, err)
	}
	return nil
}

// plainString reports whether raw is a JSON string with neither escapes
// nor control characters, whose value is the bytes between its quotes.
func plainString(raw json.RawMessage) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	for _, c := range raw[1 : len(raw)-1] {
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return false // escapes, and UTF-8 that json.Unmarshal would check
		}
	}
	return true
}

// audience reads "aud", a string or an array of strings; absent or
// malformed, it is no audience.
func audience(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var list []string
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	return list
}

// maxNumericDate bounds the seconds a float64 date may hold, well inside
// int64.
const maxNumericDate = 1 << 53

// numericDate reads a JWT NumericDate (RFC 7519): seconds since the epoch,
// whole or not; absent or null is the zero time.
func numericDate(raw json.RawMessage) (time.Time, error) {
	if isNull(raw) {
		return time.Time{}, nil
	}
	// raw is valid JSON (encoding/json's or the scanner's): one that starts
	// as a number is one, and is the json.Number it would decode to.
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return time.Time{}, errors.New("not a number")
	}
	if s, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return time.Unix(s, 0), nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.Abs(f) >= maxNumericDate {
		return time.Time{}, errors.New("out of range")
	}
	s, frac := math.Modf(f)
	return time.Unix(int64(s), int64(frac*1e9)), nil
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// scanAudience is audience's reading of the "aud" at v of raw, whose text
// is text: a plain string, or an array of them, is read by the scanner and
// cut from text; anything else by audience, from a copy (raw may be on the
// stack).
func scanAudience(raw []byte, text string, v span) []string {
	if plainString(raw[v.start:v.end]) {
		return []string{text[v.start+1 : v.end-1]}
	}
	s := scanner{data: raw[:v.end], pos: v.start}
	if !s.consume('[') {
		return audience([]byte(text[v.start:v.end]))
	}
	var inline [8]string
	list := inline[:0]
	for first := true; ; first = false {
		switch c := s.space(); {
		case c == ']':
			return append(make([]string, 0, len(list)), list...) // not nil when empty, as encoding/json's
		case !first && c != ',':
			return audience([]byte(text[v.start:v.end]))
		case !first:
			s.pos++
		}
		start, end, plain, ok := s.str()
		if !ok || !plain {
			return audience([]byte(text[v.start:v.end])) // null, escapes: encoding/json's call
		}
		list = append(list, text[start:end])
	}
}

// scanRoles reads the roles claim at v of raw, whose text is text, as
// encoding/json reads it into a map[string]map[string]string when it holds
// plain strings only, every string cut from text; ok is false otherwise.
func scanRoles(raw []byte, text string, v span) (roles map[string]map[string]string, ok bool) {
	s := scanner{data: raw[:v.end], pos: v.start}
	if !s.consume('{') {
		return nil, false
	}
	roles = map[string]map[string]string{}
	for first := true; ; first = false {
		role, more, ok := s.name(first)
		if !ok {
			return nil, false // a name with escapes: encoding/json's call
		}
		if !more {
			return roles, true
		}
		if !s.consume('{') {
			return nil, false // null, or not an object: encoding/json's call
		}
		orgs := map[string]string{}
		for first := true; ; first = false {
			org, more, ok := s.name(first)
			if !ok {
				return nil, false
			}
			if !more {
				break
			}
			start, end, plain, ok := s.str()
			if !ok || !plain {
				return nil, false
			}
			orgs[text[org.start:org.end]] = text[start:end]
		}
		roles[text[role.start:role.end]] = orgs // the last of a name, as in encoding/json
	}
}
