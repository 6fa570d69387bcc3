package serviceuser

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/internal/keyfile"
)

// Parsing itself is tested in package keyfile; these tests check what
// ParseKeyFile makes of its outcome.

// TestParseKeyFileConvertsTheKey: the ids, the expiry and the key reach
// the KeyFile.
func TestParseKeyFileConvertsTheKey(t *testing.T) {
	kf, err := ParseKeyFile(keyFileJSON(pkcs8PEM(testECKey()), map[string]any{"expirationDate": "2030-05-01T10:00:00Z"}))
	require.NoError(t, err)
	assert.Equal(t, KeyTypeServiceAccount, kf.Type)
	assert.Equal(t, "kid-1", kf.KeyID)
	assert.Equal(t, "user-1", kf.UserID)
	assert.Equal(t, "user-1", kf.subject())
	assert.Equal(t, time.Date(2030, 5, 1, 10, 0, 0, 0, time.UTC), kf.ExpirationDate)
	assert.Equal(t, "EC P-256", kf.KeyDescription())
	assert.Equal(t, &testECKey().PublicKey, kf.PublicKey())

	app, err := ParseKeyFile(keyFileJSON(pkcs1PEM(), map[string]any{"type": "application", "userId": nil, "appId": "app-1", "clientID": "client-1"}))
	require.NoError(t, err)
	assert.Equal(t, KeyTypeApplication, app.Type)
	assert.Equal(t, "app-1", app.AppID)
	assert.Equal(t, "client-1", app.ClientID)
	assert.Equal(t, "client-1", app.subject())
	assert.Equal(t, "RSA-2048", app.KeyDescription())
}

// TestKeyTypesMatchPackageKeyfile: the exported names show the values of
// the file format; package keyfile checks against its own.
func TestKeyTypesMatchPackageKeyfile(t *testing.T) {
	assert.Equal(t, keyfile.TypeServiceAccount, KeyTypeServiceAccount)
	assert.Equal(t, keyfile.TypeApplication, KeyTypeApplication)
}

// TestParseKeyFileRefusalsAreKeyFileErrors: each kind of refusal is a
// *KeyFileError naming the field, and a nil key.
func TestParseKeyFileRefusalsAreKeyFileErrors(t *testing.T) {
	for data, field := range map[string]string{
		"":                               "",
		`{"type":"user"}`:                "type",
		string(keyFileJSON("MIIE", nil)): "key",
		string(keyFileJSON(pkcs1PEM(), map[string]any{"expirationDate": "x"})): "expirationDate",
	} {
		kf, err := ParseKeyFile([]byte(data))
		assert.Nil(t, kf)
		var kfe *KeyFileError
		require.ErrorAs(t, err, &kfe)
		assert.ErrorIs(t, err, ErrInvalidKeyFile)
		assert.Equal(t, field, kfe.Field)
	}
}

func TestReadKeyFileAndEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key.json")
	require.NoError(t, os.WriteFile(path, keyFileJSON(pkcs1PEM(), nil), 0o600))

	kf, err := ReadKeyFile(path)
	require.NoError(t, err)
	assert.Equal(t, "kid-1", kf.KeyID)

	t.Setenv("SU_KEY_PATH", path)
	kf, err = KeyFileFromEnv("SU_KEY_PATH")
	require.NoError(t, err)
	assert.Equal(t, "user-1", kf.UserID)

	t.Setenv("SU_KEY_JSON", "\n "+string(keyFileJSON(pkcs1PEM(), nil)))
	kf, err = KeyFileFromEnv("SU_KEY_JSON")
	require.NoError(t, err)
	assert.Equal(t, "user-1", kf.UserID)

	_, err = KeyFileFromEnv("SU_KEY_UNSET")
	assert.ErrorContains(t, err, "SU_KEY_UNSET is not set")
	_, err = ReadKeyFile(filepath.Join(t.TempDir(), "missing.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestKeyFileNeverPrintsKey checks every way a KeyFile can be printed.
func TestKeyFileNeverPrintsKey(t *testing.T) {
	kf := testKeyFile(t)
	secretParts := []string{pkcs1PEM()[40:80], testRSAKey().D.String()[:20], testRSAKey().Primes[0].String()[:20]}
	type holder struct {
		key  *KeyFile
		Key  KeyFile
		Keys []*KeyFile
	}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, kf), fmt.Sprintf(verb, *kf), fmt.Sprintf(verb, holder{kf, *kf, []*KeyFile{kf}}))
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("k", "key", kf, "val", *kf)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("k", "key", kf)
	outputs = append(outputs, logs.String())
	for _, out := range outputs {
		for _, secret := range secretParts {
			require.NotContains(t, out, secret)
		}
	}
	assert.Contains(t, fmt.Sprint(kf), "kid-1")
	assert.Contains(t, logs.String(), "kid-1")
	assert.Contains(t, logs.String(), "[redacted]")
}

func TestKeyFileErrorIsTyped(t *testing.T) {
	_, err := ParseKeyFile([]byte(`{"type":"serviceaccount"}`))
	var kfe *KeyFileError
	require.True(t, errors.As(err, &kfe))
	assert.Equal(t, "keyId", kfe.Field)
	assert.Equal(t, "serviceuser: invalid key file: field keyId: missing", err.Error())
}

func TestCheckExpiry(t *testing.T) {
	kf, err := ParseKeyFile(keyFileJSON(pkcs1PEM(), map[string]any{"expirationDate": "2030-05-01T10:00:00Z"}))
	require.NoError(t, err)
	assert.NoError(t, kf.CheckExpiry(time.Date(2030, 5, 1, 9, 0, 0, 0, time.UTC)))
	err = kf.CheckExpiry(time.Date(2030, 5, 1, 10, 0, 0, 0, time.UTC))
	assert.ErrorIs(t, err, ErrKeyExpired)
	assert.Equal(t, "serviceuser: key expired: key kid-1 expired at 2030-05-01T10:00:00Z", err.Error())
}

// TestKeyFileStringIsOneBoundedLine: a KeyFile built by hand with a hostile
// id must not forge log lines nor print 60 KB.
func TestKeyFileStringIsOneBoundedLine(t *testing.T) {
	kf := *testKeyFile(t)
	kf.ExpirationDate = time.Unix(1, 0)
	for _, id := range []string{"kid\nlevel=ERROR msg=forged", strings.Repeat("9", 60<<10), "kid\u202e1"} {
		kf.KeyID, kf.UserID = id, id
		var logs bytes.Buffer
		slog.New(slog.NewTextHandler(&logs, nil)).Info("k", "key", kf)
		out := fmt.Sprint(kf) + kf.CheckExpiry(time.Now()).Error() + strings.TrimSuffix(logs.String(), "\n")
		assert.NotContains(t, out, "\n")
		assert.NotContains(t, out, "\u202e")
		assert.Less(t, len(out), 1000)
	}
}
