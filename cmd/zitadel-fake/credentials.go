package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// Files written into the credentials directory.
const (
	fileServiceUser  = "service-user.json" // service user key (type serviceaccount)
	fileAPIApp       = "api-app.json"      // API application key (type application)
	fileClientSecret = "client-secret.txt" // client secret of ZITADEL_CLIENT_ID
	filePAT          = "pat.txt"           // personal access token of the service user
)

// credentials are what the fake made at start: absolute paths of the files
// and the identifiers that go with them.
type credentials struct {
	dir        string
	keyPath    string
	apiKeyPath string
	secretPath string
	patPath    string
	clientID   string // login name of the machine user with the secret
	projectID  string // project of the API application
}

// makeCredentials makes a service user with a key and a personal access
// token, an API application and a machine user with a client secret on srv,
// and writes them into dir, which is made (0700) if missing; files are
// 0600, replaced if present.
func makeCredentials(srv *serviceusertest.Server, dir string) (*credentials, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	user := srv.NewServiceUser()
	app := srv.NewApplication()
	machine, secret := srv.NewServiceUserWithSecret()
	pat := srv.NewPersonalAccessToken(user.UserID, time.Time{})
	c := &credentials{
		dir:        dir,
		keyPath:    filepath.Join(dir, fileServiceUser),
		apiKeyPath: filepath.Join(dir, fileAPIApp),
		secretPath: filepath.Join(dir, fileClientSecret),
		patPath:    filepath.Join(dir, filePAT),
		clientID:   machine.Username,
		projectID:  app.ProjectID,
	}
	return c, errors.Join(
		writePrivate(c.keyPath, user.KeyFile),
		writePrivate(c.apiKeyPath, app.KeyFile),
		writePrivate(c.secretPath, []byte(secret+"\n")),
		writePrivate(c.patPath, []byte(pat+"\n")),
	)
}

// writePrivate writes data to path readable by the owner only, also when
// path exists with a wider mode.
func writePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = f.Chmod(0o600) // before the data: never readable by others
	if err == nil {
		_, err = f.Write(data)
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// credentialsDir returns dir, or a new temporary directory (0700) when dir
// is empty, with the function that removes what this run made: the
// temporary directory, or nothing in a directory the user named.
func credentialsDir(dir string) (string, func() error, error) {
	if dir != "" {
		return dir, func() error { return nil }, nil
	}
	tmp, err := os.MkdirTemp("", progName+"-")
	if err != nil {
		return "", nil, err
	}
	return tmp, func() error { return os.RemoveAll(tmp) }, nil
}
