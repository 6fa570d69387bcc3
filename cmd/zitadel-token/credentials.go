package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
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
			Address: o.address, Header: o.headers.header, InsecureAllowPlainHTTP: o.allowPlainHTTP}
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
			Address: o.address, Header: o.headers.header, InsecureAllowPlainHTTP: o.allowPlainHTTP}
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
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = strings.TrimSpace(v[1 : len(v)-1])
	}
	return serviceuser.Secret(v), nil
}
