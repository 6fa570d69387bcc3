package serviceuser

import (
	"bytes"
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-serviceuser/serviceuser/internal/credfile"
	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// Key file types written by ZITADEL.
const (
	// KeyTypeServiceAccount is the type of a service user (machine user) key.
	KeyTypeServiceAccount = "serviceaccount"
	// KeyTypeApplication is the type of an API or OIDC application key.
	KeyTypeApplication = "application"
)

// KeyFile is a parsed and validated ZITADEL key file, or a key whose private
// half is held by a crypto.Signer such as a KMS (see NewSignerKey).
//
// The private key is never printed: Format (every fmt verb, %#v included)
// and LogValue show the identifiers and the key's kind only. It is held in a
// closure so that reflection-based printers (fmt on unexported fields, spew)
// cannot reach it.
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
// It accepts RSA keys of at least 2048 bits in PKCS#1 or PKCS#8 PEM, the
// kind ZITADEL makes and verifies (RS256). It also accepts EC P-256 keys
// (ES256) for other servers that check RFC 7523 assertions: ZITADEL cannot
// make or store EC keys for users. The file must be UTF-8 (a leading byte
// order mark is dropped; UTF-16 is refused). Ids must be at most 200
// characters, without control characters or surrounding white space. Errors
// are *KeyFileError values naming the field at fault.
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
	data, utf16 := credfile.TextEncoding(data)
	if utf16 {
		return nil, keyFileError("", credfile.ProblemUTF16, nil)
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

// CheckExpiry returns an error wrapping ErrKeyExpired if the key has expired
// at now (its ExpirationDate is at or before now), so that no request is
// made with a key ZITADEL would refuse; nil otherwise.
func (kf KeyFile) CheckExpiry(now time.Time) error {
	if !kf.ExpirationDate.IsZero() && !now.Before(kf.ExpirationDate) {
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

// subject is the identity the key authenticates: the user id for service
// account keys, the client id for application keys.
func (kf KeyFile) subject() string {
	if kf.Type == KeyTypeApplication {
		return kf.ClientID
	}
	return kf.UserID
}

// maxIDLength bounds keyId, userId, appId and clientId: ZITADEL's ids have
// about 18 digits, and client ids add a project name.
const maxIDLength = 200

func keyFileError(field, problem string, err error) error {
	return &KeyFileError{Field: field, Problem: problem, Err: err}
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
	case !utf8.ValidString(value) || strings.ContainsFunc(value, redact.Invisible):
		return keyFileError(field, "contains control or invisible characters", nil)
	case strings.TrimSpace(value) != value:
		return keyFileError(field, "has white space at its start or end", nil)
	}
	return nil
}
