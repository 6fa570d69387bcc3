package serviceuser

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// patSentinel stands for a personal access token: long, random-looking, no separator.
const patSentinel = "Zx9Qm4TtR2pL7vKa3NcW8yHs5JdF6gB1eU0oIiXqSentinelPAT4kLw"

// jwtSentinel stands for an access token in JWT form.
const jwtSentinel = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZW50aW5lbCJ9.U2VudGluZWxTaWduYXR1cmVYeXo"

// pemBody is the base64 text between the PEM armor lines, on one line.
func pemBody(p string) string {
	lines := strings.Split(strings.TrimSpace(p), "\n")
	return strings.Join(lines[1:len(lines)-1], "")
}

// credentialValues are credentials that users put where a path, or a key
// file's JSON, is expected.
func credentialValues() map[string]string {
	keyPEM := pkcs1PEM()
	keyJSON := string(keyFileJSON(keyPEM, nil))
	body := pemBody(keyPEM)
	return map[string]string{
		"bare PEM":              keyPEM,
		"PEM body on one line":  body,
		"PEM body line":         body[:64],
		"key file JSON":         keyJSON,
		"JSON in single quotes": "'" + keyJSON + "'",
		"JSON in double quotes": `"` + keyJSON + `"`,
		"JSON after a BOM":      "\ufeff" + keyJSON,
		"broken quoted JSON":    "'" + keyJSON[:len(keyJSON)/2],
		"PAT":                   patSentinel,
		"PAT in quotes":         `"` + patSentinel + `"`,
		"PAT and a newline":     patSentinel + "\nx",
		"JWT":                   jwtSentinel,
		"path holding a PAT":    "/run/secrets/" + patSentinel,
		"PAT with a dot":        patSentinel + ".json",
	}
}

// assertNoLeak fails if any 16-character piece of a secret appears in any
// printed form of err.
func assertNoLeak(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	out := err.Error() + fmt.Sprintf(" %v %+v %#v %s %q", err, err, err, err, err)
	for _, secret := range []string{pemBody(pkcs1PEM()), patSentinel, jwtSentinel} {
		for i := 0; i+16 <= len(secret); i++ {
			if strings.Contains(out, secret[i:i+16]) {
				t.Fatalf("error reveals %q: %s", secret[i:i+16], out)
			}
		}
	}
}

func TestCredentialReadersNeverEchoCredentials(t *testing.T) {
	for name, value := range credentialValues() {
		t.Run(name, func(t *testing.T) {
			_, err := ReadKeyFile(value)
			require.Error(t, err, "a credential is not a path")
			assertNoLeak(t, err)

			_, err = ReadPAT(value)
			require.Error(t, err, "a credential is not a path")
			assertNoLeak(t, err)

			t.Setenv("SU_CRED", value)
			_, err = KeyFileFromEnv("SU_CRED")
			assertNoLeak(t, err)
			_, err = PATFromEnv("SU_CRED")
			assertNoLeak(t, err)
		})
	}
}

func TestCredentialReadersSayWhatTheValueLooksLike(t *testing.T) {
	values := credentialValues()
	cases := []struct {
		read  func(string) error
		value string
		words string
	}{
		{readKey, values["bare PEM"], "looks like a PEM private key, not a path"},
		{readKey, values["key file JSON"], "looks like key file JSON, not a path"},
		{readKey, values["JSON in single quotes"], "looks like key file JSON in quotes"},
		{readKey, values["JWT"], "looks like a JWT"},
		{readKey, values["PAT"], "not shown"},
		{readPAT, values["PAT"], "not shown"},
		{readPAT, values["path holding a PAT"], "not shown"},
		{readPAT, values["bare PEM"], "looks like a PEM private key"},
		{readPAT, values["JWT"], "use PATFromEnv or PATConfig.PAT for the token itself"},
		{keyFromEnv, values["bare PEM"], "environment variable SU_CRED looks like a PEM private key"},
		{keyFromEnv, values["JWT"], "environment variable SU_CRED looks like a JWT"},
	}
	for _, tc := range cases {
		err := tc.read(tc.value)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.words)
		var ce *CredentialError
		assert.ErrorAs(t, err, &ce)
	}
}

func readKey(v string) error { _, err := ReadKeyFile(v); return err }
func readPAT(v string) error { _, err := ReadPAT(v); return err }
func keyFromEnv(v string) error {
	os.Setenv("SU_CRED", v)
	defer os.Unsetenv("SU_CRED")
	_, err := KeyFileFromEnv("SU_CRED")
	return err
}

// TestKeyFileFromEnvAcceptsQuotedJSON: docker --env-file keeps quotes, and
// Windows editors write a byte order mark; the key file inside is usable.
func TestKeyFileFromEnvAcceptsQuotedJSON(t *testing.T) {
	keyJSON := string(keyFileJSON(pkcs1PEM(), nil))
	escaped, err := jsonString(keyJSON)
	require.NoError(t, err)
	for name, value := range map[string]string{
		"single quotes":      "'" + keyJSON + "'",
		"double quotes":      `"` + keyJSON + `"`,
		"JSON string":        escaped,
		"BOM":                "\ufeff" + keyJSON,
		"BOM and quotes":     "\ufeff'" + keyJSON + "'\n",
		"spaces then quotes": "  \"" + keyJSON + "\"  ",
	} {
		t.Setenv("SU_KEY", value)
		kf, err := KeyFileFromEnv("SU_KEY")
		require.NoError(t, err, name)
		assert.Equal(t, "user-1", kf.UserID, name)
	}
}

func jsonString(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

func TestKeyFileFromEnvQuotedPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key.json")
	require.NoError(t, os.WriteFile(path, keyFileJSON(pkcs1PEM(), nil), 0o600))
	t.Setenv("SU_KEY", `"`+path+`"`)
	kf, err := KeyFileFromEnv("SU_KEY")
	require.NoError(t, err)
	assert.Equal(t, "kid-1", kf.KeyID)
}

func TestReadCredentialShowsOnlyPlainPaths(t *testing.T) {
	dir, err := os.MkdirTemp("", "serviceuser-keys") // t.TempDir's name holds digits
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	missing := filepath.Join(dir, "missing-key.json")
	_, err = ReadKeyFile(missing)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), missing, "a plain path helps the reader")
	var ce *CredentialError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, missing, ce.Path)

	_, err = ReadPAT(dir)
	require.Error(t, err, "a directory is not a token file")
	assertNoLeak(t, err)

	t.Setenv("SU_EMPTY", "  ")
	_, err = KeyFileFromEnv("SU_EMPTY")
	assert.ErrorContains(t, err, "environment variable SU_EMPTY is empty")
	_, err = PATFromEnv("SU_UNSET_FOR_SURE")
	assert.ErrorContains(t, err, "environment variable SU_UNSET_FOR_SURE is not set")
}

func TestReadPATRefusesLargeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pat")
	require.NoError(t, os.WriteFile(path, []byte(strings.Repeat("a", maxCredentialFileSize+1)), 0o600))
	s, err := ReadPAT(path)
	require.Error(t, err, "a truncated token must not be returned")
	assert.Empty(t, s)
	assert.Contains(t, err.Error(), "larger than 65536 bytes")

	require.NoError(t, os.WriteFile(path, []byte(strings.Repeat("a", maxCredentialFileSize)), 0o600))
	s, err = ReadPAT(path)
	require.NoError(t, err, "the limit itself is allowed")
	assert.Len(t, string(s), maxCredentialFileSize)
}

func TestReadPATEncodings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pat")
	require.NoError(t, os.WriteFile(path, []byte("\ufeff"+patSentinel+"\r\n"), 0o600))
	s, err := ReadPAT(path)
	require.NoError(t, err, "a UTF-8 byte order mark is dropped")
	assert.Equal(t, patSentinel, string(s))

	require.NoError(t, os.WriteFile(path, utf16LE(patSentinel), 0o600))
	_, err = ReadPAT(path)
	assert.ErrorContains(t, err, "UTF-16; save it as UTF-8")
	assertNoLeak(t, err)
}

// utf16LE encodes ASCII s as UTF-16LE with a byte order mark, as Windows
// PowerShell 5 writes files.
func utf16LE(s string) []byte {
	out := []byte{0xFF, 0xFE}
	for _, c := range []byte(s) {
		out = append(out, c, 0)
	}
	return out
}

func TestCredentialErrorWrapsCause(t *testing.T) {
	_, err := ReadKeyFile(filepath.Join(t.TempDir(), "nope.json"))
	var ce *CredentialError
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, "key file", ce.Kind)
	assert.ErrorIs(t, err, os.ErrNotExist)
}
