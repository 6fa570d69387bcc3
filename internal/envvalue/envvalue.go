// Package envvalue cleans a credential held in an environment variable the
// way users really set them, for the library and the command alike.
package envvalue

import (
	"encoding/json"
	"strings"
)

// BOM is the byte order mark that Windows editors put before UTF-8 text.
const BOM = "\ufeff"

// Clean removes surrounding white space, a UTF-8 byte order mark and
// enclosing quotes, which docker --env-file and some editors keep. A value
// that is a JSON string holding an object (escaped key file JSON) is decoded.
func Clean(v string) string {
	v = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), BOM))
	var decoded string
	if strings.HasPrefix(v, `"`) && json.Unmarshal([]byte(v), &decoded) == nil && strings.HasPrefix(strings.TrimSpace(decoded), "{") {
		return strings.TrimSpace(decoded)
	}
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return strings.TrimSpace(v[1 : len(v)-1])
	}
	return v
}
