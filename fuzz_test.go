package serviceuser

import (
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/go-serviceuser/serviceuser/internal/exchange"
)

// FuzzParseKeyFile: any input parses or gives a *KeyFileError; never a
// panic, and never an error that quotes the key. Package keyfile's
// FuzzParse starts from every malformed key file its tests know.
func FuzzParseKeyFile(f *testing.F) {
	f.Add(keyFileJSON(pkcs1PEM(), nil))
	f.Add(keyFileJSON(pkcs8PEM(testECKey()), nil))
	f.Add([]byte(`{"type":"serviceaccount","keyId":"kid\nx"}`))
	f.Add(keyFileJSON("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n", nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		kf, err := ParseKeyFile(data)
		if err != nil {
			if kf != nil {
				t.Fatal("key file and error both returned")
			}
			if strings.Contains(err.Error(), "MII") {
				t.Fatalf("error quotes key material: %v", err)
			}
			return
		}
		if kf.KeyID == "" || kf.signer() == nil {
			t.Fatalf("accepted a key file without key id or key: %v", kf)
		}
		if strings.Contains(fmt.Sprint(kf), "PRIVATE KEY") {
			t.Fatal("printing shows the key")
		}
	})
}

// FuzzNewSignerKey: any ids give a key with those ids or a *KeyFileError;
// never a panic, and never a key or an error that prints more than one
// bounded line.
func FuzzNewSignerKey(f *testing.F) {
	f.Add("kid-1", "user-1", false)
	f.Add("kid-1", "client-1@project", true)
	f.Add("kid\nlevel=ERROR", " user", false)
	f.Add("", strings.Repeat("9", 300), true)
	signer := struct{ crypto.Signer }{testRSAKey()} // not an *rsa.PrivateKey
	f.Fuzz(func(t *testing.T, keyID, subject string, app bool) {
		id := KeyFile{KeyID: keyID, UserID: subject}
		if app {
			id = KeyFile{Type: KeyTypeApplication, KeyID: keyID, ClientID: subject}
		}
		kf, err := NewSignerKey(signer, id)
		if err != nil {
			var kfe *KeyFileError
			if kf != nil || !errors.As(err, &kfe) || strings.Contains(err.Error(), "\n") || len(err.Error()) > 300 {
				t.Fatalf("bad refusal: key %v, error %q", kf, err)
			}
			return
		}
		if kf.KeyID != keyID || kf.subject() != subject || kf.KeyDescription() != "RSA-2048 (external signer)" {
			t.Fatalf("key does not hold what it was given: %v", kf)
		}
		if out := fmt.Sprint(kf); strings.Contains(out, "\n") || len(out) > 1000 {
			t.Fatalf("printed key is not one bounded line: %q", out)
		}
	})
}

// fuzzSecret stands for the assertion sent with the request.
const fuzzSecret = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0.c2ln"

// FuzzTokenResponse: any answer gives a usable token or a *TokenError; never a
// panic, a token that expires before the request, or an error that echoes
// the assertion.
func FuzzTokenResponse(f *testing.F) {
	for _, seed := range tokenResponseSeeds {
		f.Add(seed.status, seed.body)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		tok, err := parseResponse(resp, []byte(body), sentAt, fuzzSecret)
		if err != nil {
			if tok != nil {
				t.Fatal("token and error both returned")
			}
			if _, ok := err.(*TokenError); !ok {
				t.Fatalf("error of type %T", err)
			}
			if strings.Contains(err.Error(), fuzzSecret) {
				t.Fatalf("error echoes the assertion: %v", err)
			}
			return
		}
		if tok.AccessToken == "" || tok.TokenType != "Bearer" || !tok.Expiry.After(sentAt) || tok.Expiry.After(sentAt.Add(exchange.MaxLifetime)) {
			t.Fatalf("bad token accepted: type %q expiry %v", tok.TokenType, tok.Expiry)
		}
		if !isB64token(tok.AccessToken) {
			t.Fatalf("token that no Authorization header can carry accepted: %q", tok.AccessToken)
		}
	})
}

// isB64token checks RFC 6750's grammar character by character:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for _, c := range []byte(body) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return false
		}
	}
	return true
}

// tokenResponseSeeds are the hostile and normal answers the fuzzer starts from.
var tokenResponseSeeds = []struct {
	status int
	body   string
}{
	{200, `{"access_token":"at","token_type":"Bearer","expires_in":43199}`},
	{200, `{"access_token":"at","token_type":"bearer","expires_in":"3600"}`},
	{200, `{"access_token":"at"}`},
	{200, `{"access_token":"at","expires_in":-1}`},
	{200, `{"access_token":"at","expires_in":1e999}`},
	{200, `{"access_token":"at","token_type":"mac"}`},
	{200, `{"error":"invalid_grant","access_token":"at"}`},
	{200, `<html></html>`},
	{200, `{"access_token":"at","expi`},
	{400, `{"error":"invalid_grant","error_description":"` + fuzzSecret + `"}`},
	{500, `{"error":"server_error","error_description":"Errors.Internal"}`},
	{429, `slow down`},
	{302, ``},
	{200, `{"access_token":"at","expires_in":"` + fuzzSecret + `"}`},
	{200, `{"access_token":"at\r\nX-Injected: 1"}`},
	{200, `{"access_token":"at\n"}`},
	{200, `{"access_token":"a t"}`},
	{200, `{"access_token":"at\u0000"}`},
	{200, `{"access_token":"at\u00e9"}`},
	{200, `{"access_token":"a=t"}`},
	{200, `{"access_token":"=="}`},
	{200, `{"access_token":"a-b.c_d~e+f/g=="}`},
	{200, "access_token=at&token_type=bearer"},
}
