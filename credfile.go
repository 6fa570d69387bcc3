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
