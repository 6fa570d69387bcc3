package serviceuser

import (
	"fmt"
	"io"
	"log/slog"
)

// Secret is a credential (a client secret or a personal access token) that
// never prints: every fmt verb and slog show "[redacted]".
type Secret string

// String returns "[redacted]"; use string(s) for the value.
func (Secret) String() string { return redacted }

// GoString returns "[redacted]".
func (Secret) GoString() string { return redacted }

// Format prints "[redacted]" for every verb.
func (Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		io.WriteString(f, `"`+redacted+`"`)
		return
	}
	io.WriteString(f, redacted)
}

// LogValue makes slog log "[redacted]".
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON writes "[redacted]": JSON loggers and dumps of configs must not
// reveal the secret either.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
