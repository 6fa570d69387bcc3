package keyfile

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-serviceuser/serviceuser/internal/credfile"
	"github.com/go-serviceuser/serviceuser/internal/keytest"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestParseAcceptsZitadelKinds(t *testing.T) {
	cases := map[string]struct {
		data []byte
		desc string
	}{
		"RSA PKCS#1":          {keytest.JSON(keytest.PKCS1PEM(), nil), "RSA-2048"},
		"RSA PKCS#8":          {keytest.JSON(keytest.PKCS8PEM(keytest.RSA()), nil), "RSA-2048"},
		"EC P-256 PKCS#8":     {keytest.JSON(keytest.PKCS8PEM(keytest.EC()), nil), "EC P-256"},
		"EC P-256 SEC1":       {keytest.JSON(ecSEC1PEM(keytest.EC()), nil), "EC P-256"},
		"no expirationDate":   {keytest.JSON(keytest.PKCS1PEM(), map[string]any{"expirationDate": nil}), "RSA-2048"},
		"unknown extra field": {keytest.JSON(keytest.PKCS1PEM(), map[string]any{"createdAt": "x"}), "RSA-2048"},
		"CRLF line endings":   {keytest.JSON(strings.ReplaceAll(keytest.PKCS1PEM(), "\n", "\r\n"), nil), "RSA-2048"},
		"UTF-8 BOM":           {append([]byte("\ufeff"), keytest.JSON(keytest.PKCS1PEM(), nil)...), "RSA-2048"},
		"BOM and white space": {append([]byte("\ufeff\r\n "), keytest.JSON(keytest.PKCS1PEM(), nil)...), "RSA-2048"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			k, e := Parse(tc.data)
			require.Nil(t, e)
			assert.Equal(t, Identity{Type: TypeServiceAccount, KeyID: "kid-1", UserID: "user-1"}, k.Identity)
			assert.Equal(t, tc.desc, Describe(k.Signer))
			assert.NotNil(t, k.Signer.Public())
		})
	}
}

func TestParseApplicationKey(t *testing.T) {
	for _, field := range []string{"clientId", "clientID"} {
		data := keytest.JSON(keytest.PKCS1PEM(), map[string]any{"type": "application", "userId": nil, "appId": "app-1", field: "client-1"})
		k, e := Parse(data)
		require.Nil(t, e, field)
		assert.Equal(t, Identity{Type: TypeApplication, KeyID: "kid-1", AppID: "app-1", ClientID: "client-1"}, k.Identity)
	}
}

func TestParseExpiration(t *testing.T) {
	k, e := Parse(keytest.JSON(keytest.PKCS1PEM(), map[string]any{"expirationDate": "2030-05-01T10:00:00+02:00"}))
	require.Nil(t, e)
	assert.True(t, time.Date(2030, 5, 1, 8, 0, 0, 0, time.UTC).Equal(k.ExpirationDate))

	never, e := Parse(keytest.JSON(keytest.PKCS1PEM(), nil))
	require.Nil(t, e)
	assert.True(t, never.ExpirationDate.IsZero(), "9999-12-31 means no expiry")
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
	good := keytest.PKCS1PEM()
	block, _ := pem.Decode([]byte(good))
	pemOf := func(typ string, der []byte, headers map[string]string) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der, Headers: headers}))
	}
	with := func(extra map[string]any) []byte { return keytest.JSON(good, extra) }
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
		"too large":               {bytes.Repeat([]byte(" "), credfile.MaxSize+1), "", "larger"},
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
		"PKCS#1 header, PKCS#8":   {with(map[string]any{"key": strings.Replace(keytest.PKCS8PEM(keytest.RSA()), "PRIVATE KEY", "RSA PRIVATE KEY", 2)}), "key", "does not parse"},
		"RSA 1024 bits":           {with(map[string]any{"key": keytest.PKCS8PEM(rsa1024)}), "key", "2048"},
		"EC P-384":                {with(map[string]any{"key": keytest.PKCS8PEM(p384)}), "key", "P-256"},
		"Ed25519":                 {with(map[string]any{"key": keytest.PKCS8PEM(ed)}), "key", "Ed25519"},
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

func TestParseRejectsMalformed(t *testing.T) {
	cases := malformedKeyFiles()
	require.GreaterOrEqual(t, len(cases), 30)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			k, e := Parse(tc.data)
			require.NotNil(t, e)
			assert.Nil(t, k)
			assert.Equal(t, tc.field, e.Field)
			text := e.Problem
			if e.Err != nil {
				text += ": " + e.Err.Error()
			}
			assert.Contains(t, text, tc.words)
			assert.NotContains(t, text, "MII", "error must not quote key material")
			assert.Less(t, len(text), 250, "error must not echo a long field")
			assert.NotContains(t, text, "\n", "error must not break a log line")
		})
	}
}

// TestPrintableID: ids Parse accepts print as they are; others print
// quoted, on one line and shortened.
func TestPrintableID(t *testing.T) {
	assert.Equal(t, "kid-1", PrintableID("kid-1"))
	assert.Equal(t, `"kid\nlevel=ERROR"`, PrintableID("kid\nlevel=ERROR"))
	long := PrintableID(strings.Repeat("9", 60<<10))
	assert.Equal(t, `"`+strings.Repeat("9", 40)+`..."`, long)
}

// FuzzParse: any input gives a key or an *Error, never both, never a
// panic, and never an error that quotes the key.
func FuzzParse(f *testing.F) {
	f.Add(keytest.JSON(keytest.PKCS1PEM(), nil))
	f.Add(keytest.JSON(keytest.PKCS8PEM(keytest.EC()), nil))
	for _, tc := range malformedKeyFiles() {
		if len(tc.data) < 8<<10 {
			f.Add(tc.data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, e := Parse(data)
		switch {
		case e != nil && k != nil:
			t.Fatal("key and error both returned")
		case e != nil && strings.Contains(e.Problem, "MII"):
			t.Fatalf("error quotes key material: %v", e.Problem)
		case e == nil && (k == nil || k.Signer == nil || k.Identity.Check() != nil):
			t.Fatalf("accepted a key file without a checked identity or key")
		}
	})
}
