package serviceuser

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"unicode"

	"github.com/go-serviceuser/serviceuser/internal/envvalue"
	"github.com/go-serviceuser/serviceuser/internal/redact"
	"github.com/go-serviceuser/serviceuser/internal/regularfile"
)

// Reading credentials (key files, personal access tokens) from files and
// environment variables. Users often put a credential where a path belongs;
// no error here may repeat it, so a value is shown only when it is plainly a
// path.

// maxCredentialFileSize bounds what is read: a ZITADEL key file is about 2 KiB.
const maxCredentialFileSize = 64 << 10

// maxShownPath bounds a path repeated in an error.
const maxShownPath = 200

// utf8BOM is the byte order mark that Windows editors put before UTF-8 text.
const utf8BOM = envvalue.BOM

// readCredentialFile reads the file at path. It refuses a value that is
// plainly a credential rather than a path, a path that is not a regular file
// (a named pipe would make the read wait for a writer), and a file over the
// size limit (rather than truncating it). env names the variable path came
// from, if any. info describes the file read.
func readCredentialFile(path, kind, env string) (data []byte, info fs.FileInfo, err error) {
	if shape := credentialShape(path); shape != "" {
		return nil, nil, notAPathError(kind, env, shape)
	}
	e := &CredentialError{Kind: kind, Env: env}
	if showablePath(path) {
		e.Path = path
	}
	data, info, err = readLimited(path)
	switch {
	case err != nil:
		e.Problem, e.Err = openProblem(e.Path != "", env), pathCause(err)
	case len(data) > maxCredentialFileSize:
		e.Problem = fmt.Sprintf("larger than %d bytes", maxCredentialFileSize)
	default:
		return data, info, nil
	}
	return nil, nil, e
}

// readLimited reads at most maxCredentialFileSize+1 bytes of the regular
// file at path, enough to tell a file that is too large.
func readLimited(path string) ([]byte, fs.FileInfo, error) {
	f, info, err := regularfile.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCredentialFileSize+1))
	return data, info, err
}

func openProblem(shown bool, env string) string {
	problem := "cannot read the file"
	if env != "" {
		problem += " named by environment variable " + env
	}
	if !shown {
		problem += " (its path is not shown: it might be a credential)"
	}
	return problem
}

// pathCause drops the path from an *fs.PathError; the rest still matches
// fs.ErrNotExist, fs.ErrPermission and the like.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return errors.New("the file cannot be read")
}

// notAPathError reports a credential given where a path was expected.
func notAPathError(kind, env, shape string) error {
	subject, hint := "the value given as a path", ""
	switch {
	case env != "": // only key files are read from a path in a variable
		subject = "environment variable " + env
		hint = "set it to the key file's JSON or to the path of the key file"
	case kind == secretKind:
		hint = "WatchSecretFile takes the path of a file holding the secret; set the secret itself in the config"
	case kind != keyFileKind:
		hint = "ReadPAT takes the path of a file holding the token; set the token itself as a Secret, or read it from the environment with PATFromEnv"
	case strings.HasPrefix(shape, "key file JSON in quotes"):
		hint = "remove the quotes and pass the JSON to ParseKeyFile"
	case strings.HasPrefix(shape, "key file JSON"):
		hint = "pass the JSON to ParseKeyFile"
	default:
		hint = "ReadKeyFile takes the path of the JSON key file ZITADEL gives out"
	}
	return &CredentialError{Kind: kind, Env: env, Problem: subject + " looks like " + shape + ", not a path: " + hint}
}

// credentialShape names what s looks like when it is plainly a credential
// rather than a path, or returns "".
func credentialShape(s string) string {
	t := strings.TrimSpace(s)
	bom := strings.HasPrefix(t, utf8BOM)
	t = strings.TrimSpace(strings.TrimPrefix(t, utf8BOM))
	inner, quoted := unquote(t)
	switch {
	case strings.HasPrefix(inner, "{") && quoted:
		return "key file JSON in quotes"
	case strings.HasPrefix(inner, "{"):
		return "key file JSON"
	case strings.Contains(t, "-----BEGIN"):
		return "a PEM private key"
	case redact.ContainsJWT(t):
		return "a JWT"
	case bom:
		return "text after a byte order mark"
	case strings.ContainsFunc(t, redact.Invisible):
		return "text with line breaks or control characters"
	}
	return ""
}

// unquote removes a leading quote and the matching trailing one, if any.
func unquote(s string) (string, bool) {
	if s == "" || (s[0] != '"' && s[0] != '\'') {
		return s, false
	}
	inner := s[1:]
	return strings.TrimSuffix(inner, s[:1]), true
}

// showablePath reports whether p is plainly a path: short, and made of
// segments that do not look like random credential text.
func showablePath(p string) bool {
	if len(p) > maxShownPath || credentialShape(p) != "" {
		return false
	}
	for _, seg := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if randomLooking(seg) {
			return false
		}
	}
	return true
}

// randomLooking reports text shaped like a token, base64 or hex rather than
// a file name: letters and digits that change class often (words such as
// "service-user-key-2024" change rarely), or a long hex or alphanumeric run.
func randomLooking(s string) bool {
	var letter, digit, hexOnly = false, false, true
	changes, prev := 0, -1
	for _, r := range s {
		letter = letter || unicode.IsLetter(r)
		digit = digit || unicode.IsDigit(r)
		hexOnly = hexOnly && strings.ContainsRune("0123456789abcdefABCDEF", r)
		if c := charClass(r); c != prev {
			changes, prev = changes+1, c
		}
	}
	n := len(s)
	switch {
	case !letter || !digit || n < 16:
		return false
	case n >= 48 || (hexOnly && n >= 32):
		return true
	}
	return float64(changes-1) >= 0.4*float64(n-1)
}

func charClass(r rune) int {
	switch {
	case unicode.IsUpper(r):
		return 0
	case unicode.IsLower(r):
		return 1
	case unicode.IsDigit(r):
		return 2
	}
	return 3
}

// envValue returns the value of the environment variable name, cleaned by
// envvalue.Clean; unset and empty variables are errors.
func envValue(name, kind string) (string, error) {
	value, ok := os.LookupEnv(name)
	if !ok {
		return "", &CredentialError{Kind: kind, Env: name, Problem: "environment variable " + name + " is not set"}
	}
	if value = envvalue.Clean(value); value == "" {
		return "", &CredentialError{Kind: kind, Env: name, Problem: "environment variable " + name + " is empty"}
	}
	return value, nil
}

// errUTF16 is the problem with a credential file saved as UTF-16.
const errUTF16 = "the file is UTF-16; save it as UTF-8"

// textEncoding drops a UTF-8 byte order mark from data (Windows editors
// write one) and reports whether the data is UTF-16, which is refused.
func textEncoding(data []byte) (text []byte, utf16 bool) {
	switch {
	case len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF):
		return nil, true
	case len(data) >= 2 && (data[0] == 0 || data[1] == 0):
		return nil, true // UTF-16 without a byte order mark: ASCII text with NULs
	}
	return bytes.TrimPrefix(data, []byte(utf8BOM)), false
}

// patKind names personal access tokens in errors.
const patKind = "personal access token"

// ReadPAT reads a personal access token from the file at path. Surrounding
// white space and a UTF-8 byte order mark are removed; a file over 64 KiB or
// in UTF-16 is refused. Errors never repeat a value that is not plainly a
// path (see CredentialError).
func ReadPAT(path string) (Secret, error) {
	data, _, err := readCredentialFile(path, patKind, "")
	if err != nil {
		return "", err
	}
	text, utf16 := textEncoding(data)
	if utf16 {
		return "", &CredentialError{Kind: patKind, Problem: errUTF16}
	}
	return checkPAT(string(text), "")
}

// PATFromEnv returns the personal access token held by the environment
// variable name. Surrounding white space and quotes (kept by
// docker --env-file) are removed.
func PATFromEnv(name string) (Secret, error) {
	value, err := envValue(name, patKind)
	if err != nil {
		return "", err
	}
	return checkPAT(value, name)
}

// checkPAT refuses values that cannot be a token; the errors never quote it.
func checkPAT(s, env string) (Secret, error) { return checkSecret(s, patKind, "the token", env) }

// checkSecret refuses values that cannot be a secret of kind (named noun in
// errors); the errors never quote it.
func checkSecret(s, kind, noun, env string) (Secret, error) {
	s = strings.TrimSpace(s)
	problem := ""
	switch {
	case s == "":
		problem = noun + " is empty"
	case strings.ContainsAny(s, " \t\r\n"):
		problem = noun + " contains white space"
	case strings.ContainsFunc(s, redact.Invisible):
		problem = noun + " contains control or invisible characters"
	case len(s) > maxCredentialFileSize:
		problem = fmt.Sprintf("%s is longer than %d bytes", noun, maxCredentialFileSize)
	default:
		return Secret(s), nil
	}
	return "", &CredentialError{Kind: kind, Env: env, Problem: problem}
}
