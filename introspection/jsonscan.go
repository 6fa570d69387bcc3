package introspection

// scanner reads the JSON of a JWT's header and claims in one pass, without
// reflection and without copies: what it reads are spans of its input. It
// accepts only JSON that encoding/json accepts. What it does not read
// itself it refuses: member names with escapes or bytes outside ASCII,
// which encoding/json unescapes and folds, and nesting deeper than
// maxScanDepth. Its callers then decode with encoding/json instead, so that
// the result is encoding/json's either way and the scanner need not be.
type scanner struct {
	data []byte
	pos  int
}

// maxScanDepth bounds the nesting the scanner reads: ZITADEL's claims nest
// three deep; deeper ones are left to encoding/json.
const maxScanDepth = 32

// space skips JSON whitespace and returns the next byte, 0 at the end.
func (s *scanner) space() byte {
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; c {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

// consume skips whitespace and then c, reporting whether c was there.
func (s *scanner) consume(c byte) bool {
	if s.space() != c {
		return false
	}
	s.pos++
	return true
}

// end reports whether only whitespace is left.
func (s *scanner) end() bool { return s.space() == 0 && s.pos == len(s.data) }

// str reads a string at s.pos and returns the span between its quotes;
// plain is false when it has escapes or bytes outside ASCII, whose value
// is not those bytes (encoding/json unescapes them, and replaces invalid
// UTF-8).
func (s *scanner) str() (start, end int, plain, ok bool) {
	if s.space() != '"' {
		return 0, 0, false, false
	}
	start, plain = s.pos+1, true
	for i := start; i < len(s.data); {
		switch c := s.data[i]; {
		case c == '"':
			s.pos = i + 1
			return start, i, plain, true
		case c < 0x20:
			return 0, 0, false, false
		case c == '\\':
			plain = false
			if i+1 >= len(s.data) {
				return 0, 0, false, false
			}
			switch s.data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s.data) || !isHex(s.data[i+2]) || !isHex(s.data[i+3]) || !isHex(s.data[i+4]) || !isHex(s.data[i+5]) {
					return 0, 0, false, false
				}
				i += 6
			default:
				return 0, 0, false, false
			}
		default:
			if c >= 0x80 {
				plain = false
			}
			i++
		}
	}
	return 0, 0, false, false
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// value skips one value of any kind, depth levels deep, and returns its
// span, without the whitespace around it.
func (s *scanner) value(depth int) (start, end int, ok bool) {
	c := s.space()
	start = s.pos
	switch {
	case c == '"':
		_, _, _, ok = s.str()
	case c == '{' || c == '[':
		ok = depth < maxScanDepth && s.composite(c, depth+1)
	case c == 't':
		ok = s.literal("true")
	case c == 'f':
		ok = s.literal("false")
	case c == 'n':
		ok = s.literal("null")
	case c == '-' || isDigit(c):
		ok = s.number()
	}
	return start, s.pos, ok
}

// composite skips an object or array, whose first byte open is at s.pos.
func (s *scanner) composite(open byte, depth int) bool {
	s.pos++
	closing := byte(']')
	if open == '{' {
		closing = '}'
	}
	if s.consume(closing) {
		return true
	}
	for {
		if open == '{' {
			if _, _, _, ok := s.str(); !ok || !s.consume(':') {
				return false
			}
		}
		if _, _, ok := s.value(depth); !ok {
			return false
		}
		switch s.space() {
		case ',':
			s.pos++
		case closing:
			s.pos++
			return true
		default:
			return false
		}
	}
}

// literal reads word, which the byte at s.pos begins.
func (s *scanner) literal(word string) bool {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return false
	}
	s.pos += len(word)
	return true
}

// number reads a number as RFC 8259 has it: no leading zeros, no '+', a
// digit on both sides of '.'.
func (s *scanner) number() bool {
	d, i := s.data, s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && isDigit(d[i]):
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !isDigit(d[i]) {
			return false
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return false
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	s.pos = i
	return true
}

// member reads the next member of an object whose '{' has been read, and
// returns the spans of its name (plain, see str) and value; more is false,
// with ok, at the object's '}'. first is whether no member was read yet.
func (s *scanner) member(first bool) (name, value span, more, ok bool) {
	if name, more, ok = s.name(first); !more {
		return span{}, span{}, false, ok
	}
	vs, ve, ok := s.value(0)
	return name, span{vs, ve}, ok, ok
}

// name is member up to the value, which the caller reads.
func (s *scanner) name(first bool) (name span, more, ok bool) {
	if c := s.space(); c == '}' {
		s.pos++
		return span{}, false, true
	} else if !first {
		if c != ',' {
			return span{}, false, false
		}
		s.pos++
	}
	start, end, plain, ok := s.str()
	if !ok || !plain || !s.consume(':') {
		return span{}, false, false
	}
	return span{start, end}, true, true
}

// span is a part of the scanner's input, data[start:end].
type span struct{ start, end int }
