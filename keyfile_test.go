package serviceuser

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
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
)

func TestParseKeyFileAcceptsZitadelKinds(t *testing.T) {
	cases := map[string]struct {
		data []byte
		desc string
	}{
		"RSA PKCS#1":          {keyFileJSON(pkcs1PEM(), nil), "RSA-2048"},
		"RSA PKCS#8":          {keyFileJSON(pkcs8PEM(testRSAKey()), nil), "RSA-2048"},
		"EC P-256 PKCS#8":     {keyFileJSON(pkcs8PEM(testECKey()), nil), "EC P-256"},
		"EC P-256 SEC1":       {keyFileJSON(ecSEC1PEM(testECKey()), nil), "EC P-256"},
		"no expirationDate":   {keyFileJSON(pkcs1PEM(), map[string]any{"expirationDate": nil}), "RSA-2048"},
		"unknown extra field": {keyFileJSON(pkcs1PEM(), map[string]any{"createdAt": "x"}), "RSA-2048"},
		"CRLF line endings":   {keyFileJSON(strings.ReplaceAll(pkcs1PEM(), "\n", "\r\n"), nil), "RSA-2048"},
		"UTF-8 BOM":           {append([]byte("\ufeff"), keyFileJSON(pkcs1PEM(), nil)...), "RSA-2048"},
		"BOM and white space": {append([]byte("\ufeff\r\n "), keyFileJSON(pkcs1PEM(), nil)...), "RSA-2048"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			kf, err := ParseKeyFile(tc.data)
			require.NoError(t, err)
			assert.Equal(t, KeyTypeServiceAccount, kf.Type)
			assert.Equal(t, "kid-1", kf.KeyID)
			assert.Equal(t, "user-1", kf.UserID)
			assert.Equal(t, tc.desc, kf.KeyDescription())
			assert.NotNil(t, kf.PublicKey())
		})
	}
}

func TestParseKeyFileApplicationKey(t *testing.T) {
	for _, field := range []string{"clientId", "clientID"} {
		data := keyFileJSON(pkcs1PEM(), map[string]any{"type": "application", "userId": nil, "appId": "app-1", field: "client-1"})
		kf, err := ParseKeyFile(data)
		require.NoError(t, err, field)
		assert.Equal(t, "client-1", kf.ClientID)
		assert.Equal(t, "app-1", kf.AppID)
		assert.Equal(t, "client-1", kf.subject())
	}
}

func TestParseKeyFileExpiration(t *testing.T) {
	kf, err := ParseKeyFile(keyFileJSON(pkcs1PEM(), map[string]any{"expirationDate": "2030-05-01T10:00:00Z"}))
	require.NoError(t, err)
	assert.Equal(t, time.Date(2030, 5, 1, 10, 0, 0, 0, time.UTC), kf.ExpirationDate)
	assert.NoError(t, kf.CheckExpiry(time.Date(2030, 5, 1, 9, 59, 59, 0, time.UTC)))
	assert.ErrorIs(t, kf.CheckExpiry(time.Date(2030, 5, 1, 10, 0, 0, 0, time.UTC)), ErrKeyExpired)

	never, err := ParseKeyFile(keyFileJSON(pkcs1PEM(), nil))
	require.NoError(t, err)
	assert.True(t, never.ExpirationDate.IsZero(), "9999-12-31 means no expiry")
	assert.NoError(t, never.CheckExpiry(time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)))
}

func ecSEC1PEM(k *ecdsa.PrivateKey) string {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

// malformedKeyFiles maps each bad input to the field its error must name
// ("" for the file as a whole) and a word the error must contain.
func malformedKeyFiles() map[string]struct {
	data         []byte
	field, words string
} {
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	good := pkcs1PEM()
	block, _ := pem.Decode([]byte(good))
	pemOf := func(typ string, der []byte, headers map[string]string) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der, Headers: headers}))
	}
	with := func(extra map[string]any) []byte { return keyFileJSON(good, extra) }
	type bad = struct {
		data         []byte
		field, words string
	}
	return map[string]bad{
		"empty":                   {nil, "", "empty"},
		"white space":             {[]byte(" \n\t"), "", "empty"},
		"not JSON":                {[]byte("hello"), "", "JSON"},
		"JSON array":              {[]byte(`[1,2]`), "", "JSON"},
		"JSON string":             {[]byte(`"key"`), "", "JSON"},
		"JSON null fields only":   {[]byte(`{}`), "type", "missing"},
		"truncated JSON":          {with(nil)[:100], "", "JSON"},
		"trailing garbage":        {append(with(nil), []byte(" xyz")...), "", "trailing"},
		"two objects":             {append(with(nil), with(nil)...), "", "trailing"},
		"too large":               {bytes.Repeat([]byte(" "), maxCredentialFileSize+1), "", "larger"},
		"keyId as number":         {[]byte(`{"type":"serviceaccount","keyId":123}`), "", "JSON"},
		"missing type":            {with(map[string]any{"type": nil}), "type", "missing"},
		"wrong type":              {with(map[string]any{"type": "user"}), "type", "neither"},
		"type with other case":    {with(map[string]any{"type": "ServiceAccount"}), "type", "neither"},
		"missing keyId":           {with(map[string]any{"keyId": nil}), "keyId", "missing"},
		"empty keyId":             {with(map[string]any{"keyId": ""}), "keyId", "missing"},
		"missing userId":          {with(map[string]any{"userId": nil}), "userId", "missing"},
		"application no clientId": {with(map[string]any{"type": "application"}), "clientId", "missing"},
		"missing key":             {with(map[string]any{"key": nil}), "key", "missing"},
		"key not PEM":             {with(map[string]any{"key": "MIIEpAIBAAKCAQEA"}), "key", "not a PEM"},
		"key base64 garbage PEM":  {with(map[string]any{"key": "-----BEGIN RSA PRIVATE KEY-----\n!!!!\n-----END RSA PRIVATE KEY-----\n"}), "key", "not a PEM"},
		"key truncated PEM":       {with(map[string]any{"key": good[:len(good)/2]}), "key", "not a PEM"},
		"PEM trailing data":       {with(map[string]any{"key": good + "garbage"}), "key", "trailing"},
		"two PEM blocks":          {with(map[string]any{"key": good + good}), "key", "trailing"},
		"public key PEM":          {with(map[string]any{"key": pemOf("PUBLIC KEY", block.Bytes, nil)}), "key", "not a private key"},
		"certificate PEM":         {with(map[string]any{"key": pemOf("CERTIFICATE", block.Bytes, nil)}), "key", "not a private key"},
		"encrypted PKCS#8":        {with(map[string]any{"key": pemOf("ENCRYPTED PRIVATE KEY", block.Bytes, nil)}), "key", "encrypted"},
		"encrypted legacy PEM":    {with(map[string]any{"key": pemOf("RSA PRIVATE KEY", block.Bytes, map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"})}), "key", "encrypted"},
		"PKCS#1 header, bad DER":  {with(map[string]any{"key": pemOf("RSA PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01}, nil)}), "key", "does not parse"},
		"PKCS#8 header, PKCS#1":   {with(map[string]any{"key": pemOf("PRIVATE KEY", block.Bytes, nil)}), "key", "does not parse"},
		"PKCS#1 header, PKCS#8":   {with(map[string]any{"key": strings.Replace(pkcs8PEM(testRSAKey()), "PRIVATE KEY", "RSA PRIVATE KEY", 2)}), "key", "does not parse"},
		"RSA 1024 bits":           {with(map[string]any{"key": pkcs8PEM(rsa1024)}), "key", "2048"},
		"EC P-384":                {with(map[string]any{"key": pkcs8PEM(p384)}), "key", "P-256"},
		"Ed25519":                 {with(map[string]any{"key": pkcs8PEM(ed)}), "key", "Ed25519"},
		"keyId only spaces":       {with(map[string]any{"keyId": "  \t "}), "keyId", "missing"},
		"keyId with newline":      {with(map[string]any{"keyId": "kid-1\nlevel=ERROR msg=forged"}), "keyId", "control"},
		"keyId 60 KB":             {with(map[string]any{"keyId": strings.Repeat("9", 60<<10)}), "keyId", "at most 200"},
		"keyId with spaces":       {with(map[string]any{"keyId": " kid-1"}), "keyId", "white space"},
		"keyId bidi override":     {with(map[string]any{"keyId": "kid\u202e1"}), "keyId", "control"},
		"userId only spaces":      {with(map[string]any{"userId": " "}), "userId", "missing"},
		"userId with NUL":         {with(map[string]any{"userId": "user\x001"}), "userId", "control"},
		"userId too long":         {with(map[string]any{"userId": strings.Repeat("1", 201)}), "userId", "at most 200"},
		"clientId with CR":        {with(map[string]any{"type": "application", "clientId": "c\r1", "appId": "a"}), "clientId", "control"},
		"appId with newline":      {with(map[string]any{"type": "application", "clientId": "c1", "appId": "a\n"}), "appId", "control"},
		"UTF-16LE with BOM":       {utf16(with(nil), false, true), "", "UTF-16; save it as UTF-8"},
		"UTF-16BE with BOM":       {utf16(with(nil), true, true), "", "UTF-16; save it as UTF-8"},
		"UTF-16LE without BOM":    {utf16(with(nil), false, false), "", "UTF-16; save it as UTF-8"},
		"bad expirationDate":      {with(map[string]any{"expirationDate": "tomorrow"}), "expirationDate", "RFC 3339"},
		"date without zone":       {with(map[string]any{"expirationDate": "2030-01-01T00:00:00"}), "expirationDate", "RFC 3339"},
	}
}

// utf16 encodes ASCII data as UTF-16, as Windows PowerShell 5 writes files.
func utf16(data []byte, bigEndian, bom bool) []byte {
	var out []byte
	if bom {
		out = []byte{0xFF, 0xFE}
		if bigEndian {
			out = []byte{0xFE, 0xFF}
		}
	}
	for _, c := range data {
		if bigEndian {
			out = append(out, 0, c)
		} else {
			out = append(out, c, 0)
		}
	}
	return out
}

func TestParseKeyFileRejectsMalformed(t *testing.T) {
	cases := malformedKeyFiles()
	require.GreaterOrEqual(t, len(cases), 30)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			kf, err := ParseKeyFile(tc.data)
			require.Error(t, err)
			assert.Nil(t, kf)
			var kfe *KeyFileError
			require.ErrorAs(t, err, &kfe)
			assert.ErrorIs(t, err, ErrInvalidKeyFile)
			assert.Equal(t, tc.field, kfe.Field)
			assert.Contains(t, err.Error(), tc.words)
			assert.NotContains(t, err.Error(), "MII", "error must not quote key material")
			assert.Less(t, len(err.Error()), 300, "error must not echo a long field")
			assert.NotContains(t, err.Error(), "\n", "error must not break a log line")
		})
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

// TestTruncateKeepsRunesWhole: a shortened value stays valid UTF-8.
func TestTruncateKeepsRunesWhole(t *testing.T) {
	if got := truncate("ab€", 3); got != "ab..." {
		t.Fatalf("truncate split a rune: %q", got)
	}
}
