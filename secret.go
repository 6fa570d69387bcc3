package serviceuser

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// redacted stands for a secret in what the library prints.
const redacted = redact.Marker

// Secret is a credential (a client secret or a personal access token) that
// never prints or encodes: every fmt verb, slog, encoding/json, encoding/xml,
// YAML and every other encoder that honours encoding.TextMarshaler show
// "[redacted]", and encoding/gob refuses it. string(s) is the way to the value.
type Secret string

// errGobSecret is GobEncode's refusal.
var errGobSecret = errors.New("serviceuser: a Secret is not gob-encoded; send string(s) if the value must travel")

// String returns "[redacted]"; use string(s) for the value.
func (Secret) String() string { return redacted }

// Format prints "[redacted]" for every verb, %#v included.
func (Secret) Format(f fmt.State, verb rune) { redact.Format(f, verb, redacted) }

// LogValue makes slog log "[redacted]".
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns "[redacted]", for encoding/json (JSON loggers and
// dumps of configs), encoding/xml, YAML encoders and every other encoder
// that uses encoding.TextMarshaler.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// GobEncode refuses: gob would otherwise send the raw value, and a redacted
// one would arrive as a credential that silently fails.
func (Secret) GobEncode() ([]byte, error) { return nil, errGobSecret }
