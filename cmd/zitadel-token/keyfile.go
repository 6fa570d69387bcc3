package main

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-serviceuser/serviceuser"
)

// check reports a doubled or missing key source before anything is read.
func (o *keyFlags) check() error {
	switch {
	case o.keyPath != "" && o.keyEnv != "":
		return usageErrorf("give -key or -key-env, not both")
	case o.keyPath == "" && o.keyEnv == "" && !hasEnv(envKey):
		return usageErrorf("missing -key (or -key-env, or $%s)", envKey)
	}
	return nil
}

// loadValidKey checks the key flags and loads the key, which must not
// have expired.
func (o *keyFlags) loadValidKey() (*serviceuser.KeyFile, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	key, err := o.load()
	if err != nil {
		return nil, err
	}
	if err := key.CheckExpiry(time.Now()); err != nil {
		return nil, withCode(exitKey, err)
	}
	return key, nil
}

// load reads the key file named by -key or held in the -key-env variable
// ($ZITADEL_KEY when neither is given).
func (o *keyFlags) load() (*serviceuser.KeyFile, error) {
	if o.keyPath != "" {
		if !looksLikePath(o.keyPath) {
			return nil, usageErrorf("-key takes the path of a key file; to pass its JSON, put it in an environment variable and use -key-env")
		}
		return readKey("the file given as -key", o.keyPath)
	}
	name := o.keyEnv
	if name == "" {
		name = envKey
	}
	return keyFromEnv(name)
}

// keyFromEnv loads the key from the variable name, which holds the key
// file's JSON or a path to it, as serviceuser.KeyFileFromEnv reads it.
func keyFromEnv(name string) (*serviceuser.KeyFile, error) {
	if !validEnvName(name) {
		return nil, usageErrorf("-key-env takes the name of an environment variable, not its value")
	}
	value := strings.TrimSpace(os.Getenv(name))
	// The value as the library reads it, near enough for the hints: without
	// the quotes and byte order mark it removes.
	bare := strings.Trim(value, "\"' \ufeff")
	isJSON := strings.HasPrefix(bare, "{")
	switch {
	case value == "":
		return nil, usageErrorf("environment variable %s is not set", name)
	case !isJSON && strings.Contains(value, pemBegin):
		return nil, pemKeyError("environment variable "+name, []byte(value))
	}
	key, err := serviceuser.KeyFileFromEnv(name)
	switch {
	case err == nil:
		return key, nil
	case errors.Is(err, serviceuser.ErrInvalidKeyFile) && !isJSON:
		return nil, withPEMHint("the file named by environment variable "+name, bare, err)
	}
	return nil, withCode(exitKey, err)
}

// readKey reads the key file at path, which what names (such as "the file
// given as -key"); failures to read it count as key problems.
func readKey(what, path string) (*serviceuser.KeyFile, error) {
	key, err := serviceuser.ReadKeyFile(path)
	switch {
	case err == nil:
		return key, nil
	case !errors.Is(err, serviceuser.ErrInvalidKeyFile):
		return nil, withCode(exitKey, err)
	}
	return nil, withPEMHint(what, path, err)
}

// withPEMHint returns err, the refusal of the key file at path, or the
// hint of pemKeyError when the file holds PEM text.
func withPEMHint(what, path string, err error) error {
	if data := peekRegularFile(path, maxKeyPeek); bytes.Contains(data, []byte(pemBegin)) {
		return pemKeyError(what, data)
	}
	return withCode(exitKey, err)
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
		return withCode(exitKey, fmt.Errorf("%s holds PEM text that is not a private key, where a ZITADEL key file (JSON) "+
			"belongs: download the key file as JSON from the console (the service user's Keys; for introspect, "+
			"the API application's)", what))
	}
	return withCode(exitKey, fmt.Errorf("%s holds a PEM private key, not a ZITADEL key file: the tool needs the key file (JSON), "+
		"which holds the key with its key id and user id; download it as JSON from the console (the service user's "+
		"Keys; for introspect, the API application's). A Go program can use a PEM key with its ids through "+
		"serviceuser.NewSignerKey", what))
}

// peekRegularFile returns at most max bytes of the file at path, or nil
// when it is not a regular file (a named pipe swapped in is not waited for).
func peekRegularFile(path string, max int64) []byte {
	f, _, err := openRegular(path)
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
