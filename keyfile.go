package serviceuser

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Key file types written by ZITADEL.
const (
	// KeyTypeServiceAccount is the type of a service user (machine user) key.
	KeyTypeServiceAccount = "serviceaccount"
	// KeyTypeApplication is the type of an API or OIDC application key.
	KeyTypeApplication = "application"
)

// maxIDLength bounds keyId, userId, appId and clientId: ZITADEL's ids have
// about 18 digits, and client ids add a project name.
const maxIDLength = 200

// minRSABits is the smallest RSA key accepted; ZITADEL generates 2048-bit keys.
const minRSABits = 2048

// KeyFile is a parsed and validated ZITADEL key file.
//
// The private key is never printed: String, GoString, Format and LogValue
// show the identifiers and the key's kind only. It is held in a closure so that
// reflection-based printers (fmt on unexported fields, spew) cannot reach it.
type KeyFile struct {
	// Type is KeyTypeServiceAccount or KeyTypeApplication.
	Type string
	// KeyID is the key's id, sent as the assertion's "kid" header.
	KeyID string
	// UserID is the service user's id (service account keys only).
	UserID string
	// AppID and ClientID identify the application (application keys only).
	AppID, ClientID string
	// ExpirationDate is when ZITADEL stops accepting the key; zero when the
	// file has none (older servers) or it means "never" (9999-12-31).
	ExpirationDate time.Time

	privateKey func() crypto.Signer
}

// rawKeyFile is the JSON form. Field matching is case-insensitive, so the
// "clientID" of very old servers loads too.
type rawKeyFile struct {
	Type           string `json:"type"`
	KeyID          string `json:"keyId"`
	Key            string `json:"key"`
	ExpirationDate string `json:"expirationDate"`
	UserID         string `json:"userId"`
	AppID          string `json:"appId"`
	ClientID       string `json:"clientId"`
}

// ErrInvalidKeyFile matches (with errors.Is) every *KeyFileError.
var ErrInvalidKeyFile = errors.New("serviceuser: invalid key file")

// ErrKeyExpired reports a key whose expirationDate has passed; ZITADEL
// would refuse every assertion signed with it.
var ErrKeyExpired = errors.New("serviceuser: key expired")

// KeyFileError describes what is wrong with a key file. It never contains key material.
type KeyFileError struct {
	// Field is the JSON field at fault ("key", "keyId", ...), or "" for the file as a whole.
	Field string
	// Problem says what is wrong, in words.
	Problem string
	// Err is the underlying cause, if any.
	Err error
}

func (e *KeyFileError) Error() string {
	msg := "serviceuser: invalid key file: "
	if e.Field != "" {
		msg += "field " + e.Field + ": "
	}
	msg += e.Problem
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying cause.
func (e *KeyFileError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidKeyFile.
func (e *KeyFileError) Is(target error) bool { return target == ErrInvalidKeyFile }

func keyFileError(field, problem string, err error) error {
	return &KeyFileError{Field: field, Problem: problem, Err: err}
}

// keyFileKind names key files in errors.
const keyFileKind = "key file"

// ReadKeyFile reads and parses the key file at path. A UTF-8 byte order mark
// is accepted; errors never repeat a value that is not plainly a path (see
// CredentialError).
func ReadKeyFile(path string) (*KeyFile, error) { return readKeyFile(path, "") }

// readKeyFile reads the key file at path, named by the variable env if any.
func readKeyFile(path, env string) (*KeyFile, error) {
	data, err := readCredentialFile(path, keyFileKind, env)
	if err != nil {
		return nil, err
	}
	return ParseKeyFile(data)
}

// KeyFileFromEnv parses the key file named by the environment variable name,
// which holds either the key file's JSON or a path to it. Enclosing quotes
// (kept by docker --env-file), a UTF-8 byte order mark and surrounding white
// space are removed first, and a JSON string holding the key file's JSON is
// decoded. Errors never repeat the variable's value.
func KeyFileFromEnv(name string) (*KeyFile, error) {
	value, err := envValue(name, keyFileKind)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(value, "{") {
		return ParseKeyFile([]byte(value))
	}
	return readKeyFile(value, name)
}

// ParseKeyFile parses a ZITADEL key file (service account or application key).
// It accepts RSA keys of at least 2048 bits in PKCS#1 or PKCS#8 PEM and EC
// P-256 keys, the kinds ZITADEL verifies (RS256, ES256). The file must be
// UTF-8 (a leading byte order mark is dropped; UTF-16 is refused). Ids must
// be at most 200 characters, without control characters or surrounding white
// space. Errors are *KeyFileError values naming the field at fault.
func ParseKeyFile(data []byte) (*KeyFile, error) {
	raw, err := decodeKeyFileJSON(data)
	if err != nil {
		return nil, err
	}
	kf := &KeyFile{Type: raw.Type, KeyID: raw.KeyID, UserID: raw.UserID, AppID: raw.AppID, ClientID: raw.ClientID}
	if err := kf.checkIdentity(); err != nil {
		return nil, err
	}
	if kf.ExpirationDate, err = parseExpiration(raw.ExpirationDate); err != nil {
		return nil, err
	}
	signer, err := parsePrivateKey(raw.Key)
	if err != nil {
		return nil, err
	}
	kf.privateKey = func() crypto.Signer { return signer }
	return kf, nil
}

func decodeKeyFileJSON(data []byte) (*rawKeyFile, error) {
	if len(data) > maxCredentialFileSize {
		return nil, keyFileError("", fmt.Sprintf("larger than %d bytes", maxCredentialFileSize), nil)
	}
	data, utf16 := textEncoding(data)
	if utf16 {
		return nil, keyFileError("", errUTF16, nil)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, keyFileError("", "empty", nil)
	}
	var raw rawKeyFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, keyFileError("", "not a JSON object with string fields", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, keyFileError("", "trailing data after the JSON object", nil)
	}
	return &raw, nil
}

func (kf KeyFile) checkIdentity() error {
	switch kf.Type {
	case KeyTypeServiceAccount, KeyTypeApplication:
	case "":
		return keyFileError("type", "missing", nil)
	default:
		return keyFileError("type", fmt.Sprintf("%q is neither %q nor %q", truncate(kf.Type, 40), KeyTypeServiceAccount, KeyTypeApplication), nil)
	}
	app := kf.Type == KeyTypeApplication
	for _, id := range []struct {
		field, value string
		required     bool
	}{
		{"keyId", kf.KeyID, true},
		{"userId", kf.UserID, !app},
		{"clientId", kf.ClientID, app},
		{"appId", kf.AppID, false},
	} {
		if err := checkID(id.field, id.value, id.required); err != nil {
			return err
		}
	}
	return nil
}

// checkID refuses an id that could not be ZITADEL's: it is sent in every
// assertion and printed in logs, where a line break would forge a line.
// The offending value is never printed.
func checkID(field, value string, required bool) error {
	switch {
	case strings.TrimSpace(value) == "":
		if required || value != "" {
			return keyFileError(field, "missing", nil)
		}
	case len(value) > maxIDLength:
		return keyFileError(field, fmt.Sprintf("%d bytes long; at most %d are allowed", len(value), maxIDLength), nil)
	case !utf8.ValidString(value) || strings.ContainsFunc(value, invisible):
		return keyFileError(field, "contains control or invisible characters", nil)
	case strings.TrimSpace(value) != value:
		return keyFileError(field, "has white space at its start or end", nil)
	}
	return nil
}

// farFuture is ZITADEL's "no expiry" date.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func parseExpiration(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, keyFileError("expirationDate", "not an RFC 3339 date", nil)
	}
	if !t.Before(farFuture) {
		return time.Time{}, nil
	}
	return t, nil
}

func parsePrivateKey(s string) (crypto.Signer, error) {
	if strings.TrimSpace(s) == "" {
		return nil, keyFileError("key", "missing", nil)
	}
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return nil, keyFileError("key", "not a PEM block", nil)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, keyFileError("key", "trailing data after the PEM block", nil)
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
		return nil, keyFileError("key", "encrypted PEM is not supported; decrypt the key first", nil)
	}
	key, err := parseDER(block)
	if err != nil {
		return nil, err
	}
	return checkKeyKind(key)
}

func parseDER(block *pem.Block) (any, error) {
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, keyFileError("key", fmt.Sprintf("PEM block type %q is not a private key", truncate(block.Type, 40)), nil)
	}
	if err != nil {
		// x509's messages describe the structure, never the key's bytes.
		return nil, keyFileError("key", block.Type+" does not parse", err)
	}
	return key, nil
}

func checkKeyKind(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if bits := k.N.BitLen(); bits < minRSABits {
			return nil, keyFileError("key", fmt.Sprintf("RSA key has %d bits; at least %d are required", bits, minRSABits), nil)
		}
		return k, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, keyFileError("key", fmt.Sprintf("EC key on %s: ZITADEL accepts only ES256 (P-256)", k.Curve.Params().Name), nil)
		}
		return k, nil
	case ed25519.PrivateKey:
		return nil, keyFileError("key", "Ed25519 key: ZITADEL accepts only RS256, PS256 and ES256", nil)
	default:
		return nil, keyFileError("key", fmt.Sprintf("unsupported key type %T", key), nil)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Expired reports whether the key's expiration date is at or before now.
func (kf KeyFile) Expired(now time.Time) bool {
	return !kf.ExpirationDate.IsZero() && !now.Before(kf.ExpirationDate)
}

// CheckExpiry returns an error wrapping ErrKeyExpired if the key has expired
// at now, so that no request is made with a key ZITADEL would refuse.
func (kf KeyFile) CheckExpiry(now time.Time) error {
	if kf.Expired(now) {
		return fmt.Errorf("%w: key %s expired at %s", ErrKeyExpired, printableID(kf.KeyID), kf.ExpirationDate.UTC().Format(time.RFC3339))
	}
	return nil
}

// PublicKey returns the public half of the key.
func (kf KeyFile) PublicKey() crypto.PublicKey {
	if s := kf.signer(); s != nil {
		return s.Public()
	}
	return nil
}

// signer returns the private key, or nil for a zero KeyFile.
func (kf KeyFile) signer() crypto.Signer {
	if kf.privateKey == nil {
		return nil
	}
	return kf.privateKey()
}

// KeyDescription names the key's kind and size, such as "RSA-2048" or "EC P-256".
func (kf KeyFile) KeyDescription() string {
	switch k := kf.signer().(type) {
	case *rsa.PrivateKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PrivateKey:
		return "EC " + k.Curve.Params().Name
	default:
		return "none"
	}
}

// subject is the identity the key authenticates: the user id for service
// account keys, the client id for application keys.
func (kf KeyFile) subject() string {
	if kf.Type == KeyTypeApplication {
		return kf.ClientID
	}
	return kf.UserID
}

// String describes the key file without its private key.
func (kf KeyFile) String() string {
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

// GoString is String: %#v must not reveal the key either.
func (kf KeyFile) GoString() string { return kf.String() }

// Format prints String for every verb, so no fmt verb reveals the key.
func (kf KeyFile) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", kf.String())
		return
	}
	io.WriteString(f, kf.String())
}

// LogValue makes slog log the identifiers only.
func (kf KeyFile) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("type", printableID(kf.Type)),
		slog.String("keyId", printableID(kf.KeyID)),
		slog.String("subject", printableID(kf.subject())),
		slog.String("key", kf.KeyDescription()+" [redacted]"),
	)
}
