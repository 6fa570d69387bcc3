package serviceuser

import (
	"github.com/go-serviceuser/serviceuser/internal/credfile"
)

// Reading credentials (key files, personal access tokens) from files and
// environment variables is package credfile's, shared with package
// filewatch; its errors become *CredentialError values here.

// maxCredentialFileSize bounds a credential file and a key file's JSON.
const maxCredentialFileSize = credfile.MaxSize

// keyFileKind and patKind name key files and personal access tokens in errors.
const (
	keyFileKind = credfile.KindKeyFile
	patKind     = credfile.KindPAT
)

// credentialError is the *CredentialError of e: a *credfile.Error has its
// fields. A nil e is a nil error, never a typed nil.
func credentialError(e *credfile.Error) error {
	if e == nil {
		return nil
	}
	return (*CredentialError)(e)
}

// readCredentialFile reads the credential file at path (see credfile.Read).
func readCredentialFile(path, kind, env string) ([]byte, error) {
	data, _, e := credfile.Read(path, kind, env)
	return data, credentialError(e)
}

// envValue returns the value of the environment variable name (see
// credfile.EnvValue).
func envValue(name, kind string) (string, error) {
	value, e := credfile.EnvValue(name, kind)
	return value, credentialError(e)
}

// ReadPAT reads a personal access token from the file at path. Surrounding
// white space and a UTF-8 byte order mark are removed; a file over 64 KiB or
// in UTF-16 is refused. Errors never repeat a value that is not plainly a
// path (see CredentialError).
func ReadPAT(path string) (Secret, error) {
	data, err := readCredentialFile(path, patKind, "")
	if err != nil {
		return "", err
	}
	pat, e := credfile.ParseSecretFile(data, patKind, patNoun)
	return Secret(pat), credentialError(e)
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

// patNoun names the token in errors.
const patNoun = "the token"

// checkPAT refuses values that cannot be a token; the errors never quote it.
func checkPAT(s, env string) (Secret, error) {
	pat, e := credfile.CheckSecret(s, patKind, patNoun, env)
	return Secret(pat), credentialError(e)
}
