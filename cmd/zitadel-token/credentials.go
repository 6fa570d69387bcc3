package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/filewatch"
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
}

// hasEnv reports whether the environment variable name holds a value.
func hasEnv(name string) bool { return strings.TrimSpace(os.Getenv(name)) != "" }

// authMode picks the way to authenticate: from the flags when some are
// given, otherwise from the one credential the environment holds.
func (o *credentialFlags) authMode() (string, error) {
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
		given = envModes()
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

// envModes lists the credentials the environment holds. $ZITADEL_CLIENT_ID
// without $ZITADEL_CLIENT_SECRET is a login name, not a credential: next to
// $ZITADEL_KEY, as zitadel-fake prints them, the key is the one credential.
// Alone, it stands for the client credential, whose error names the
// missing secret.
func envModes() []string {
	var modes []string
	if hasEnv(envKey) {
		modes = append(modes, modeKey)
	}
	if hasEnv(envClientID) && hasEnv(envClientSecret) {
		modes = append(modes, modeClient)
	}
	if hasEnv(envPAT) {
		modes = append(modes, modePAT)
	}
	if len(modes) == 0 && hasEnv(envClientID) {
		modes = append(modes, modeClient)
	}
	return modes
}

// loadCredential checks the flags of the subcommands that get a token and
// loads the credential. needIssuer is false where a personal access token
// is enough on its own (token).
func (o *tokenFlags) loadCredential(x *invocation, needIssuer bool) (*credential, error) {
	if o.timeout <= 0 {
		return nil, usageErrorf("-timeout must be positive")
	}
	mode, err := o.authMode()
	if err != nil {
		return nil, err
	}
	if mode != modePAT || needIssuer {
		if err := o.requireIssuer(); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(o.issuer) != "" { // else a personal access token is printed: no request
		if err := o.checkRoute(); err != nil {
			return nil, err
		}
	}
	switch mode {
	case modeKey:
		return o.keyCredential()
	case modeClient:
		return o.clientCredential(x)
	}
	return o.patCredential(x)
}

func (o *tokenFlags) keyCredential() (*credential, error) {
	key, err := o.loadValidKey()
	if err != nil {
		return nil, err
	}
	return o.newKeyCredential(key), nil
}

// newKeyCredential makes the credential of a loaded service user key.
func (o *tokenFlags) newKeyCredential(key *serviceuser.KeyFile) *credential {
	c := &credential{mode: modeKey, id: key.UserID + "/" + key.KeyID}
	c.token = func(ctx context.Context, scopes []string) (*oauth2.Token, error) {
		cfg := serviceuser.Config{Key: key, Issuer: o.issuer, Scopes: scopes, TokenURL: o.tokenURL,
			Timeout: o.timeout, HTTPClient: o.watch.client(),
			Route: o.zitadelRoute()}
		return cfg.Token(ctx)
	}
	return c
}

func (o *tokenFlags) clientCredential(x *invocation) (*credential, error) {
	id := o.clientID
	if id == "" {
		id = strings.TrimSpace(os.Getenv(envClientID))
	}
	if id == "" {
		return nil, usageErrorf("missing -client-id (or $%s): the machine user's login name", envClientID)
	}
	secret, err := o.clientSecret()
	if err != nil {
		return nil, err
	}
	x.hide(string(secret))
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
func (o *credentialFlags) clientSecret() (serviceuser.Secret, error) {
	if o.clientSecretFile != "" {
		return readSecretFile(o.clientSecretFile)
	}
	v := strings.TrimSpace(os.Getenv(envClientSecret))
	if v == "" {
		return "", usageErrorf("missing client secret: give -client-secret-file or set $%s", envClientSecret)
	}
	return serviceuser.Secret(v), nil
}

// readSecretFile reads a client secret with the library's checks of a
// secret file (those of filewatch.NewSecretSource and ReadPAT: size, encoding, one
// value without white space); errors name the file, never its content.
func readSecretFile(path string) (serviceuser.Secret, error) {
	if !looksLikePath(path) {
		return "", usageErrorf("-client-secret-file takes the path of a file holding the secret")
	}
	w, err := filewatch.NewSecretSource(path)
	if err != nil {
		return "", withCode(exitKey, fmt.Errorf("-client-secret-file: %w", err))
	}
	s, err := w.CurrentSecret()
	if err != nil {
		return "", withCode(exitKey, err)
	}
	return s, nil
}

func (o *tokenFlags) patCredential(x *invocation) (*credential, error) {
	pat, err := o.pat()
	if err != nil {
		return nil, withCode(exitKey, err)
	}
	x.hide(string(pat))
	if err := (serviceuser.PATConfig{PAT: pat}).Validate(); err != nil {
		return nil, withCode(exitKey, err)
	}
	c := &credential{mode: modePAT}
	c.token = func(ctx context.Context, _ []string) (*oauth2.Token, error) {
		return serviceuser.PATConfig{PAT: pat}.Token(ctx)
	}
	return c, nil
}

// pat reads the personal access token from -pat-file or $ZITADEL_PAT.
func (o *credentialFlags) pat() (serviceuser.Secret, error) {
	if o.patFile != "" {
		return serviceuser.ReadPAT(o.patFile)
	}
	return serviceuser.PATFromEnv(envPAT)
}
