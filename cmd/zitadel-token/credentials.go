package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/internal/envvalue"
	"github.com/go-serviceuser/serviceuser/internal/regularfile"
)

// Environment variables of the other two ways to authenticate. The secret and
// the token are read from the environment or a file, never from a flag's
// value, which other users can see in the process list.
const (
	envClientID     = "ZITADEL_CLIENT_ID"
	envClientSecret = "ZITADEL_CLIENT_SECRET"
	envPAT          = "ZITADEL_PAT"
)

// Ways the tool authenticates as the machine user.
const (
	modeKey    = "key"
	modeClient = "client"
	modePAT    = "pat"
)

// credential is the machine user's credential, loaded: it makes one token
// request per call (none for a personal access token).
type credential struct {
	mode  string
	id    string // key id, client id, or "" for a personal access token
	token func(ctx context.Context, scopes []string) (*oauth2.Token, error)
	key   *serviceuser.KeyFile // key mode only
}

// authMode picks the way to authenticate: from the flags when some are
// given, otherwise from the one credential the environment holds.
func (o *options) authMode() (string, error) {
	var given []string
	if o.keyPath != "" || o.keyEnv != "" {
		given = append(given, modeKey)
	}
	if o.clientID != "" || o.clientSecretFile != "" {
		given = append(given, modeClient)
	}
	if o.patFile != "" {
		given = append(given, modePAT)
	}
	if len(given) == 0 {
		given = o.envModes()
	}
	switch len(given) {
	case 0:
		return "", usageErrorf("missing credential: give -key, -client-id with a secret, or -pat-file (or $%s, $%s, $%s)",
			envKey, envClientID, envPAT)
	case 1:
		return given[0], nil
	}
	return "", usageErrorf("give one credential: -key or -key-env, -client-id, or -pat-file (and the matching variables), not several")
}

// envModes lists the credentials the environment holds.
func (o *options) envModes() []string {
	var modes []string
	for _, m := range []struct{ env, mode string }{{envKey, modeKey}, {envClientID, modeClient}, {envPAT, modePAT}} {
		if o.hasEnv(m.env) {
			modes = append(modes, m.mode)
		}
	}
	return modes
}

// loadCredential checks the flags of the subcommands that call ZITADEL and
// loads the credential. needIssuer is false where a personal access token
// is enough on its own (token).
func loadCredential(o *options, needIssuer bool) (*credential, error) {
	if o.timeout <= 0 {
		return nil, usageErrorf("-timeout must be positive")
	}
	mode, err := o.authMode()
	if err != nil {
		return nil, err
	}
	if (mode != modePAT || needIssuer) && strings.TrimSpace(o.issuer) == "" {
		return nil, usageErrorf("missing -issuer (or $%s)", envIssuer)
	}
	if strings.TrimSpace(o.issuer) != "" { // else a personal access token is printed: no request
		if err := o.checkRoute(); err != nil {
			return nil, err
		}
	}
	switch mode {
	case modeKey:
		return keyCredential(o)
	case modeClient:
		return clientCredential(o)
	}
	return patCredential(o)
}

func keyCredential(o *options) (*credential, error) {
	if err := checkRequired(o, true); err != nil {
		return nil, err
	}
	key, err := loadKey(o)
	if err != nil {
		return nil, err
	}
	if err := key.CheckExpiry(time.Now()); err != nil {
		return nil, err
	}
	return newKeyCredential(o, key), nil
}

// newKeyCredential makes the credential of a loaded service user key.
func newKeyCredential(o *options, key *serviceuser.KeyFile) *credential {
	c := &credential{mode: modeKey, id: key.UserID + "/" + key.KeyID, key: key}
	c.token = func(ctx context.Context, scopes []string) (*oauth2.Token, error) {
		cfg := serviceuser.Config{Key: key, Issuer: o.issuer, Scopes: scopes, TokenURL: o.tokenURL,
			Timeout: o.timeout, HTTPClient: o.watch.client(),
			Route: o.zitadelRoute()}
		return cfg.Token(ctx)
	}
	return c
}

func clientCredential(o *options) (*credential, error) {
	id := o.clientID
	if id == "" {
		id, _ = o.env(envClientID)
		id = strings.TrimSpace(id)
	}
	if id == "" {
		return nil, usageErrorf("missing -client-id (or $%s): the machine user's login name", envClientID)
	}
	secret, err := o.clientSecret()
	if err != nil {
		return nil, err
	}
	o.secrets = append(o.secrets, string(secret))
	c := &credential{mode: modeClient, id: id}
	c.token = func(ctx context.Context, scopes []string) (*oauth2.Token, error) {
		cfg := serviceuser.ClientCredentialsConfig{ClientID: id, ClientSecret: secret, Issuer: o.issuer,
			Scopes: scopes, TokenURL: o.tokenURL, Timeout: o.timeout, HTTPClient: o.watch.client(),
			Route: o.zitadelRoute()}
		return cfg.Token(ctx)
	}
	return c, nil
}

// clientSecret reads the secret from -client-secret-file or $ZITADEL_CLIENT_SECRET.
func (o *options) clientSecret() (serviceuser.Secret, error) {
	if o.clientSecretFile != "" {
		return readSecretFile(o.clientSecretFile)
	}
	v, _ := o.env(envClientSecret)
	if v = strings.TrimSpace(v); v == "" {
		return "", usageErrorf("missing client secret: give -client-secret-file or set $%s", envClientSecret)
	}
	return serviceuser.Secret(v), nil
}

// readSecretFile reads a client secret with the library's checks of a
// secret file (those of WatchSecretFile and ReadPAT: size, encoding, one
// value without white space); errors name the file, never its content.
func readSecretFile(path string) (serviceuser.Secret, error) {
	if !looksLikePath(path) {
		return "", usageErrorf("-client-secret-file takes the path of a file holding the secret")
	}
	w, err := serviceuser.WatchSecretFile(path)
	if err != nil {
		return "", fmt.Errorf("-client-secret-file: %w", err)
	}
	return w.CurrentSecret()
}

func patCredential(o *options) (*credential, error) {
	pat, err := o.pat()
	if err != nil {
		return nil, err
	}
	o.secrets = append(o.secrets, string(pat))
	if err := (serviceuser.PATConfig{PAT: pat}).Validate(); err != nil {
		return nil, &keyError{err}
	}
	c := &credential{mode: modePAT}
	c.token = func(ctx context.Context, _ []string) (*oauth2.Token, error) {
		return serviceuser.PATConfig{PAT: pat}.Token(ctx)
	}
	return c, nil
}

// pat reads the personal access token from -pat-file or $ZITADEL_PAT. The
// variable is read through o.env (serviceuser.PATFromEnv reads the process's
// own environment), with the same trimming.
func (o *options) pat() (serviceuser.Secret, error) {
	if o.patFile != "" {
		return serviceuser.ReadPAT(o.patFile)
	}
	v, _ := o.env(envPAT)
	return serviceuser.Secret(envvalue.Clean(v)), nil
}

// checkRequired reports a missing or doubled key source, and a missing
// issuer when one is needed, before anything is read.
func checkRequired(o *options, needIssuer bool) error {
	switch {
	case o.keyPath != "" && o.keyEnv != "":
		return usageErrorf("give -key or -key-env, not both")
	case o.keyPath == "" && o.keyEnv == "" && !o.hasEnv(envKey):
		return usageErrorf("missing -key (or -key-env, or $%s)", envKey)
	case needIssuer && strings.TrimSpace(o.issuer) == "":
		return usageErrorf("missing -issuer (or $%s)", envIssuer)
	}
	return nil
}

// hasEnv reports whether the environment variable name holds a value.
func (o *options) hasEnv(name string) bool {
	v, ok := o.env(name)
	return ok && strings.TrimSpace(v) != ""
}

// loadKey reads the key file named by -key or held in the -key-env variable
// ($ZITADEL_KEY when neither is given).
func loadKey(o *options) (*serviceuser.KeyFile, error) {
	if o.keyPath == "" && o.keyEnv == "" {
		o.keyEnv = envKey
	}
	if o.keyPath != "" {
		if !looksLikePath(o.keyPath) {
			return nil, usageErrorf("-key takes the path of a key file; to pass its JSON, put it in an environment variable and use -key-env")
		}
		return readKey("the file given as -key", o.keyPath)
	}
	return keyFromEnv(o.env, o.keyEnv)
}

// keyFromEnv loads the key from the variable name, which holds the key
// file's JSON or a path to it.
func keyFromEnv(env func(string) (string, bool), name string) (*serviceuser.KeyFile, error) {
	if !validEnvName(name) {
		return nil, usageErrorf("-key-env takes the name of an environment variable, not its value")
	}
	value, _ := env(name)
	value = envvalue.Clean(value) // as the library's KeyFileFromEnv cleans it
	switch {
	case value == "":
		return nil, usageErrorf("environment variable %s is not set", name)
	case strings.HasPrefix(value, "{"):
		return serviceuser.ParseKeyFile([]byte(value))
	case strings.Contains(value, pemBegin):
		return nil, pemKeyError("environment variable "+name, []byte(value))
	case !looksLikePath(value):
		return nil, &keyError{fmt.Errorf("environment variable %s holds neither a key file's JSON nor a path", name)}
	}
	return readKey("the file named by environment variable "+name, value)
}

// readKey reads the key file at path, which what names (such as "the file given as -key");
// failures to read it count as key problems.
func readKey(what, path string) (*serviceuser.KeyFile, error) {
	key, err := serviceuser.ReadKeyFile(path)
	switch {
	case err == nil:
		return key, nil
	case !errors.Is(err, serviceuser.ErrInvalidKeyFile):
		return nil, &keyError{err}
	}
	if data := peekRegularFile(path, maxKeyPeek); bytes.Contains(data, []byte(pemBegin)) {
		return nil, pemKeyError(what, data)
	}
	return nil, err
}

// pemBegin starts a PEM block.
const pemBegin = "-----BEGIN "

// maxKeyPeek bounds what is read again of a refused key file: the size
// limit of a key file.
const maxKeyPeek = 64 << 10

// pemKeyError says what to do with PEM text given where the JSON key file
// belongs. ZITADEL's key file holds the PEM key with its ids, which the
// JSON grant needs; the message never repeats the text.
func pemKeyError(what string, data []byte) error {
	block, _ := pem.Decode(data)
	if block == nil || !strings.HasSuffix(block.Type, "PRIVATE KEY") {
		return &keyError{fmt.Errorf("%s holds PEM text that is not a private key, where a ZITADEL key file (JSON) "+
			"belongs: download the key file as JSON from the console (the service user's Keys; for introspect, "+
			"the API application's)", what)}
	}
	return &keyError{fmt.Errorf("%s holds a PEM private key, not a ZITADEL key file: the tool needs the key file (JSON), "+
		"which holds the key with its key id and user id; download it as JSON from the console (the service user's "+
		"Keys; for introspect, the API application's). A Go program can use a PEM key with its ids through "+
		"serviceuser.NewSignerKey", what)}
}

// peekRegularFile returns at most max bytes of the file at path, or nil
// when it is not a regular file (a named pipe swapped in is not waited for).
func peekRegularFile(path string, max int64) []byte {
	f, _, err := regularfile.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	data, _ := io.ReadAll(io.LimitReader(f, max))
	return data
}

// looksLikePath rejects values that are key material rather than a path,
// so that an error about the path never repeats them.
func looksLikePath(s string) bool {
	t := strings.TrimSpace(s)
	return len(t) <= 4096 && !strings.HasPrefix(t, "{") && !strings.ContainsAny(t, "\n\r") &&
		!strings.Contains(t, "PRIVATE KEY")
}

func validEnvName(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
