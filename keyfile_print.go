package serviceuser

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// KeyDescription names the key's kind and size, such as "RSA-2048",
// "EC P-256" or, for a key made by NewSignerKey, "RSA-2048 (external signer)".
func (kf KeyFile) KeyDescription() string {
	switch k := kf.signer().(type) {
	case *rsa.PrivateKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PrivateKey:
		return "EC " + k.Curve.Params().Name
	case *externalSigner:
		return fmt.Sprintf("RSA-%d (external signer)", k.public.N.BitLen())
	default:
		return "none"
	}
}

// describe describes the key file without its private key.
func (kf KeyFile) describe() string {
	id := "userId=" + printableID(kf.UserID)
	if kf.Type == KeyTypeApplication {
		id = "clientId=" + printableID(kf.ClientID)
	}
	return fmt.Sprintf("serviceuser.KeyFile{type=%s keyId=%s %s key=%s [redacted]}",
		printableID(kf.Type), printableID(kf.KeyID), id, kf.KeyDescription())
}

// printableID returns id as is when ParseKeyFile would accept it, and
// otherwise a quoted, shortened form: a KeyFile built by hand must not print
// 60 KB or forge a log line either.
func printableID(id string) string {
	if checkID("", id, false) == nil {
		return id
	}
	return strconv.Quote(truncate(id, 40))
}

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

// truncate shortens s to at most n bytes, not splitting a UTF-8 sequence.
func truncate(s string, n int) string { return redact.Truncate(s, n) }
