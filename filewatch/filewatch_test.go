package filewatch_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/filewatch"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// printed renders v every way a user or a logger might.
func printed(v any) string {
	var b bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		fmt.Fprintf(&b, verb+"\n", v)
	}
	slog.New(slog.NewTextHandler(&b, nil)).Error("failed", "err", v)
	slog.New(slog.NewJSONHandler(&b, nil)).Error("failed", "err", v)
	return b.String()
}

// TestNewSourceErrors shows NewKeySource and NewSecretSource failing like
// serviceuser.ReadKeyFile and ReadPAT, and PATConfig refusing an Expiry for a PAT that
// may rotate.
func TestNewSourceErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := filewatch.NewKeySource(filepath.Join(dir, "missing.json"))
	var ce *serviceuser.CredentialError
	require.ErrorAs(t, err, &ce)
	assert.True(t, errors.Is(err, os.ErrNotExist))
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("{"), 0o600))
	_, err = filewatch.NewKeySource(bad)
	assert.ErrorIs(t, err, serviceuser.ErrInvalidKeyFile)
	_, err = filewatch.NewSecretSource(bad + "x")
	assert.ErrorAs(t, err, &ce)

	secret := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("s3cret"), 0o600))
	sw, err := filewatch.NewSecretSource(secret)
	require.NoError(t, err)
	var cfgErr *serviceuser.ConfigError
	err = serviceuser.PATConfig{PAT: sw, Expiry: time.Now()}.Validate()
	require.ErrorAs(t, err, &cfgErr)
	assert.Equal(t, "Expiry", cfgErr.Field)
	assert.NoError(t, serviceuser.PATConfig{PAT: sw}.Validate())
	assert.NoError(t, serviceuser.PATConfig{PAT: serviceuser.Secret("x"), Expiry: time.Now().Add(time.Hour)}.Validate())
	assert.NotContains(t, printed(sw), "s3cret")

	srv := serviceusertest.NewServer(serviceusertest.InProcess())
	defer srv.Close()
	keyPath := filepath.Join(dir, "key.json")
	require.NoError(t, os.WriteFile(keyPath, srv.NewServiceUser().KeyFile, 0o600))
	kw, err := filewatch.NewKeySource(keyPath)
	require.NoError(t, err)
	assert.NotContains(t, printed(kw), "PRIVATE")
	assert.NotContains(t, printed(serviceuser.Config{Key: kw}), "PRIVATE")
}

// TestNewSecretSourceRefusesASecret shows NewSecretSource given the secret
// itself: the error says so without repeating it.
func TestNewSecretSourceRefusesASecret(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
	_, err := filewatch.NewSecretSource(jwt)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "filewatch.NewSecretSource takes the path")
	assert.NotContains(t, err.Error(), jwt)
}

// TestNilSources: a nil *KeySource or *SecretSource, as a config may hold
// by mistake, answers every method without a panic, and configs refuse it.
func TestNilSources(t *testing.T) {
	var kw *filewatch.KeySource
	var sw *filewatch.SecretSource
	assert.NotPanics(t, func() {
		assert.NoError(t, kw.Rotation().Err)
		assert.NoError(t, sw.Rotation().Err)
		assert.Contains(t, fmt.Sprint(kw), "nil")
		assert.Contains(t, fmt.Sprint(sw), "nil")
	})
	var ce *serviceuser.ConfigError
	assert.ErrorAs(t, serviceuser.Config{Key: kw, Issuer: "https://z.example.com"}.Validate(), &ce)
	assert.ErrorAs(t, serviceuser.ClientCredentialsConfig{ClientID: "id", ClientSecret: sw, Issuer: "https://z.example.com"}.Validate(), &ce)
	assert.ErrorAs(t, serviceuser.PATConfig{PAT: sw}.Validate(), &ce)
}

// TestRewriteWithinATimestampTickIsSeen: a file rewritten in place with a
// new credential of the same size, so soon after it was read that its
// modification time did not change (file systems keep it to a clock tick,
// up to seconds), still replaces the credential: a file modified about when
// it was read is read again, not trusted to be unchanged.
func TestRewriteWithinATimestampTickIsSeen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(path, []byte("secret-one"), 0o600))
	sw, err := filewatch.NewSecretSource(path)
	require.NoError(t, err)
	before, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte("secret-two"), 0o600))
	require.NoError(t, os.Chtimes(path, before.ModTime(), before.ModTime())) // the same tick
	secret, err := sw.CurrentSecret()
	require.NoError(t, err)
	assert.Equal(t, "secret-two", string(secret))
	assert.NoError(t, sw.Rotation().Err)
}
