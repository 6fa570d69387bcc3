// Package credfile reads credentials (key files, client secrets, personal
// access tokens) from files and environment variables. Users often put a
// credential where a path belongs; no error here may repeat it, so a value
// is shown only when it is plainly a path.
//
// Its errors are *Error values: the fields of serviceuser.CredentialError,
// which package serviceuser and package filewatch convert them to.
package credfile

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

// Kinds of credential, as an Error names them.
const (
	KindKeyFile = "key file"
	KindPAT     = "personal access token"
	KindSecret  = "secret"
)

// Error is a credential that could not be read: the fields of
// serviceuser.CredentialError, in its order, so that an *Error converts to
// a *serviceuser.CredentialError (the conversion fails to compile when they
// differ). See there for what each means.
type Error struct {
	Kind    string
	Env     string
	Path    string
	Problem string
	Err     error
}

// MaxSize bounds what is read: a ZITADEL key file is about 2 KiB.
const MaxSize = 64 << 10

// maxShownPath bounds a path repeated in an error.
const maxShownPath = 200

// ProblemUTF16 is the problem with a credential file saved as UTF-16.
const ProblemUTF16 = "the file is UTF-16; save it as UTF-8"

// Read reads the file at path. It refuses a value that is plainly a
// credential rather than a path, a path that is not a regular file (a named
// pipe would make the read wait for a writer), and a file over MaxSize
// (rather than truncating it). kind is what is read (KindKeyFile...); env
// names the variable path came from, if any. info describes the file read.
func Read(path, kind, env string) (data []byte, info fs.FileInfo, e *Error) {
	if shape := credentialShape(path); shape != "" {
		return nil, nil, notAPath(kind, env, shape)
	}
	e = &Error{Kind: kind, Env: env}
	if ShowablePath(path) {
		e.Path = path
	}
	data, info, err := readLimited(path)
	switch {
	case err != nil:
		e.Problem, e.Err = openProblem(e.Path != "", env), pathCause(err)
	case len(data) > MaxSize:
		e.Problem = fmt.Sprintf("larger than %d bytes", MaxSize)
	default:
		return data, info, nil
	}
	return nil, nil, e
}

// readLimited reads at most MaxSize+1 bytes of the regular file at path,
// enough to tell a file that is too large.
func readLimited(path string) ([]byte, fs.FileInfo, error) {
	f, info, err := regularfile.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
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

// notAPath reports a credential given where a path was expected.
func notAPath(kind, env, shape string) *Error {
	subject, hint := "the value given as a path", ""
	switch {
	case env != "": // only key files are read from a path in a variable
		subject = "environment variable " + env
		hint = "set it to the key file's JSON or to the path of the key file"
	case kind == KindSecret:
		hint = "filewatch.NewSecretSource takes the path of a file holding the secret; set the secret itself in the config"
	case kind != KindKeyFile:
		hint = "ReadPAT takes the path of a file holding the token; use PATFromEnv or PATConfig.PAT for the token itself"
	case strings.HasPrefix(shape, "key file JSON in quotes"):
		hint = "remove the quotes and pass the JSON to ParseKeyFile"
	case strings.HasPrefix(shape, "key file JSON"):
		hint = "pass the JSON to ParseKeyFile"
	default:
		hint = "ReadKeyFile takes the path of the JSON key file ZITADEL gives out"
	}
	return &Error{Kind: kind, Env: env, Problem: subject + " looks like " + shape + ", not a path: " + hint}
}

// credentialShape names what s looks like when it is plainly a credential
// rather than a path, or returns "".
func credentialShape(s string) string {
	t := strings.TrimSpace(s)
	bom := strings.HasPrefix(t, envvalue.BOM)
	t = strings.TrimSpace(strings.TrimPrefix(t, envvalue.BOM))
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

// ShowablePath reports whether p is plainly a path: short, and made of
// segments that do not look like random credential text.
func ShowablePath(p string) bool {
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

// EnvValue returns the value of the environment variable name, cleaned by
// envvalue.Clean; unset and empty variables are errors.
func EnvValue(name, kind string) (string, *Error) {
	value, ok := os.LookupEnv(name)
	if !ok {
		return "", &Error{Kind: kind, Env: name, Problem: "environment variable " + name + " is not set"}
	}
	if value = envvalue.Clean(value); value == "" {
		return "", &Error{Kind: kind, Env: name, Problem: "environment variable " + name + " is empty"}
	}
	return value, nil
}

// TextEncoding drops a UTF-8 byte order mark from data (Windows editors
// write one) and reports whether the data is UTF-16, which is refused.
func TextEncoding(data []byte) (text []byte, utf16 bool) {
	switch {
	case len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF):
		return nil, true
	case len(data) >= 2 && (data[0] == 0 || data[1] == 0):
		return nil, true // UTF-16 without a byte order mark: ASCII text with NULs
	}
	return bytes.TrimPrefix(data, []byte(envvalue.BOM)), false
}

// CheckSecret returns s without surrounding white space, or refuses a
// value that cannot be a secret of kind (named noun in errors, such as
// "the token"); the errors never quote it. env names the variable s came
// from, if any.
func CheckSecret(s, kind, noun, env string) (string, *Error) {
	s = strings.TrimSpace(s)
	problem := ""
	switch {
	case s == "":
		problem = noun + " is empty"
	case strings.ContainsAny(s, " \t\r\n"):
		problem = noun + " contains white space"
	case strings.ContainsFunc(s, redact.Invisible):
		problem = noun + " contains control or invisible characters"
	case len(s) > MaxSize:
		problem = fmt.Sprintf("%s is longer than %d bytes", noun, MaxSize)
	default:
		return s, nil
	}
	return "", &Error{Kind: kind, Env: env, Problem: problem}
}

// ParseSecretFile is the content check of a file holding a secret of kind:
// UTF-8, a byte order mark dropped, one secret (see CheckSecret).
func ParseSecretFile(data []byte, kind, noun string) (string, *Error) {
	text, utf16 := TextEncoding(data)
	if utf16 {
		return "", &Error{Kind: kind, Problem: ProblemUTF16}
	}
	return CheckSecret(string(text), kind, noun, "")
}
