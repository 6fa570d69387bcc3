package serviceuser

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/go-serviceuser/serviceuser/internal/redact"
)

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
