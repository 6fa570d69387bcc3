package serviceuser

import (
	"fmt"
	"log/slog"

	"github.com/go-serviceuser/serviceuser/internal/keyfile"
	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// KeyDescription names the key's kind and size, such as "RSA-2048",
// "EC P-256" or, for a key made by NewSignerKey, "RSA-2048 (external signer)".
func (kf KeyFile) KeyDescription() string { return keyfile.Describe(kf.signer()) }

// describe describes the key file without its private key.
func (kf KeyFile) describe() string {
	id := "userId=" + printableID(kf.UserID)
	if kf.Type == KeyTypeApplication {
		id = "clientId=" + printableID(kf.ClientID)
	}
	return fmt.Sprintf("serviceuser.KeyFile{type=%s keyId=%s %s key=%s [redacted]}",
		printableID(kf.Type), printableID(kf.KeyID), id, kf.KeyDescription())
}

// printableID is id as printing a KeyFile shows it: as is when
// ParseKeyFile would accept it, otherwise quoted and shortened.
func printableID(id string) string { return keyfile.PrintableID(id) }

// Format describes the key file by its type, ids and kind of key, for every
// verb (%v, %s, %#v...), so that no fmt verb reveals the key.
func (kf KeyFile) Format(f fmt.State, verb rune) { redact.Format(f, verb, kf.describe()) }

// LogValue makes slog log the identifiers only.
func (kf KeyFile) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("type", printableID(kf.Type)),
		slog.String("keyId", printableID(kf.KeyID)),
		slog.String("subject", printableID(kf.subject())),
		slog.String("key", kf.KeyDescription()+" [redacted]"),
	)
}
