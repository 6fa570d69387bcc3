// Package keyfile parses and checks ZITADEL key files and the keys of
// external signers: the JSON fields, the type and ids, the PEM private key
// and its size. It needs no network and knows no grant.
//
// Its errors are *Error values, the fields of serviceuser.KeyFileError, and
// *SignerError values, the fields of serviceuser.SignerError; package
// serviceuser converts them to its exported types.
package keyfile

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
	TypeServiceAccount = "serviceaccount"
	TypeApplication    = "application"
)

// Error is what is wrong with a key file: the fields of
// serviceuser.KeyFileError, in its order, so that an *Error converts to a
// *serviceuser.KeyFileError (the conversion fails to compile when they
// differ). It never holds key material.
type Error struct {
	Field   string
	Problem string
	Err     error
}

func newError(field, problem string, err error) *Error {
	return &Error{Field: field, Problem: problem, Err: err}
}

// Identity is what names a key: its type and ids.
type Identity struct {
	Type, KeyID, UserID, AppID, ClientID string
}

// Key is a parsed key file.
type Key struct {
	Identity
	// ExpirationDate is zero when the file has none or it means "never".
	ExpirationDate time.Time
	// Signer is the private key: an *rsa.PrivateKey or *ecdsa.PrivateKey.
	Signer crypto.Signer
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

// Parse parses and checks a key file, as serviceuser.ParseKeyFile documents.
func Parse(data []byte) (*Key, *Error) {
	raw, e := decodeJSON(data)
	if e != nil {
		return nil, e
	}
	k := &Key{Identity: Identity{Type: raw.Type, KeyID: raw.KeyID, UserID: raw.UserID, AppID: raw.AppID, ClientID: raw.ClientID}}
	if e := k.Identity.Check(); e != nil {
		return nil, e
	}
	if k.ExpirationDate, e = parseExpiration(raw.ExpirationDate); e != nil {
		return nil, e
	}
	if k.Signer, e = parsePrivateKey(raw.Key); e != nil {
		return nil, e
	}
	return k, nil
}

func decodeJSON(data []byte) (*rawKeyFile, *Error) {
	if len(data) > credfile.MaxSize {
		return nil, newError("", fmt.Sprintf("larger than %d bytes", credfile.MaxSize), nil)
	}
	data, utf16 := credfile.TextEncoding(data)
	if utf16 {
		return nil, newError("", credfile.ProblemUTF16, nil)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, newError("", "empty", nil)
	}
	var raw rawKeyFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, newError("", "not a JSON object with string fields", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, newError("", "trailing data after the JSON object", nil)
	}
	return &raw, nil
}

// farFuture is ZITADEL's "no expiry" date.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func parseExpiration(s string) (time.Time, *Error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, newError("expirationDate", "not an RFC 3339 date", nil)
	}
	if !t.Before(farFuture) {
		return time.Time{}, nil
	}
	return t, nil
}

// maxIDLength bounds keyId, userId, appId and clientId: ZITADEL's ids have
// about 18 digits, and client ids add a project name.
const maxIDLength = 200

// Check refuses a type other than ZITADEL's two, and ids that are missing
// for the type or could not be ZITADEL's.
func (id Identity) Check() *Error {
	switch id.Type {
	case TypeServiceAccount, TypeApplication:
	case "":
		return newError("type", "missing", nil)
	default:
		return newError("type", fmt.Sprintf("%q is neither %q nor %q", redact.Truncate(id.Type, 40), TypeServiceAccount, TypeApplication), nil)
	}
	app := id.Type == TypeApplication
	for _, f := range []struct {
		field, value string
		required     bool
	}{
		{"keyId", id.KeyID, true},
		{"userId", id.UserID, !app},
		{"clientId", id.ClientID, app},
		{"appId", id.AppID, false},
	} {
		if e := checkID(f.field, f.value, f.required); e != nil {
			return e
		}
	}
	return nil
}

// checkID refuses an id that could not be ZITADEL's: it is sent in every
// assertion and printed in logs, where a line break would forge a line.
// The offending value is never printed.
func checkID(field, value string, required bool) *Error {
	switch {
	case strings.TrimSpace(value) == "":
		if required || value != "" {
			return newError(field, "missing", nil)
		}
	case len(value) > maxIDLength:
		return newError(field, fmt.Sprintf("%d bytes long; at most %d are allowed", len(value), maxIDLength), nil)
	case !utf8.ValidString(value) || strings.ContainsFunc(value, redact.Invisible):
		return newError(field, "contains control or invisible characters", nil)
	case strings.TrimSpace(value) != value:
		return newError(field, "has white space at its start or end", nil)
	}
	return nil
}
