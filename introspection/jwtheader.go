package introspection

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// jwtHeader is the part of a JWS header (RFC 7515) that is read.
type jwtHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// maxInlineHeader is the size of a decoded header read from the stack; a
// longer one is decoded on the heap. ZITADEL's are under 100 bytes.
const maxInlineHeader = 256

// readHeader reads a JWS header from its base64url form: alg, kid, and
// whether it names crit. ok is false when the header is not base64url or
// encoding/json would not read it into a jwtHeader (with algOnly, into a
// struct of Alg alone, which takes any kid). Plain headers are read
// by the scanner, on the stack; others by encoding/json, whose reading this
// is: member names match in any case there, so a name that matches "alg",
// "kid" or "crit" only in another case, or that is not plain ASCII, goes
// to encoding/json too.
func readHeader(encoded string, algOnly bool) (h jwtHeader, crit, ok bool) {
	var buf [maxInlineHeader]byte
	raw, err := base64.RawURLEncoding.AppendDecode(buf[:0], []byte(encoded))
	if err != nil {
		return jwtHeader{}, false, false
	}
	if h, crit, ok := scanHeader(raw, algOnly); ok {
		return h, crit, true
	}
	return decodeHeader(bytes.Clone(raw), algOnly) // not buf: encoding/json keeps what it reads on the heap
}

// decodeHeader is readHeader's reading by encoding/json.
func decodeHeader(raw []byte, algOnly bool) (h jwtHeader, crit, ok bool) {
	var err error
	if algOnly {
		var a struct {
			Alg string `json:"alg"`
		}
		err = json.Unmarshal(raw, &a)
		h.Alg = a.Alg
	} else {
		err = json.Unmarshal(raw, &h)
	}
	if err != nil {
		return jwtHeader{}, false, false
	}
	return h, h.Crit != nil, true
}

// scanHeader is readHeader's reading of a plain header, without Kid when
// algOnly; ok is false when it leaves it to encoding/json.
func scanHeader(raw []byte, algOnly bool) (h jwtHeader, crit, ok bool) {
	s := scanner{data: raw}
	if !s.consume('{') {
		return jwtHeader{}, false, false
	}
	for first := true; ; first = false {
		name, value, more, ok := s.member(first)
		if !ok {
			return jwtHeader{}, false, false
		}
		if !more {
			break
		}
		var into *string
		switch n := string(raw[name.start:name.end]); {
		case n == "alg":
			into = &h.Alg
		case n == "kid":
			into = &h.Kid
		case n == "crit":
			crit = true
			continue
		case strings.EqualFold(n, "alg") || strings.EqualFold(n, "kid") || strings.EqualFold(n, "crit"):
			return jwtHeader{}, false, false
		default:
			continue
		}
		if !plainString(raw[value.start:value.end]) {
			return jwtHeader{}, false, false // null, a number, escapes: encoding/json's call
		}
		if into != &h.Kid || !algOnly {
			*into = knownHeaderValue(raw[value.start+1 : value.end-1])
		}
	}
	if !s.end() {
		return jwtHeader{}, false, false
	}
	return h, crit, true
}

// knownHeaderValue is v as a string, without an allocation for the alg
// ZITADEL signs with.
func knownHeaderValue(v []byte) string {
	if string(v) == "RS256" {
		return "RS256"
	}
	return string(v)
}
