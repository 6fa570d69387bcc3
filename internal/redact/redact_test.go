package redact

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestRedact(t *testing.T) {
	opaque := "Xk3pQ9zR7vB2mN8wL5tY1uH6jG4fD0sA3eC9bV7nM2q"
	cases := map[string]struct{ in, want string }{
		"Bearer credential":               {"Authorization: Bearer abc.def-1", "Authorization: Bearer [redacted]"},
		"Basic credential":                {`{"echo":"Basic c3ZjOnNlY3JldA=="}`, `{"echo":"Basic [redacted]"}`},
		"form-encoded Bearer":             {"h=Bearer%20xyz&x=1", "h=Bearer%20[redacted]&x=1"},
		"prose":                           {"invalid basic auth header; the JWT bearer grant", "invalid basic auth header; the JWT bearer grant"},
		"challenge parameters":            {`Bearer realm="api", error="invalid_token"`, `Bearer realm="api", error="invalid_token"`},
		"form fields":                     {"access_token=a1&token_type=bearer&token=t2&client_secret=s3", "access_token=[redacted]&token_type=bearer&token=[redacted]&client_secret=[redacted]"},
		"client_assertion_type stays":     {"client_assertion_type=urn:x&client_assertion=abc", "client_assertion_type=urn:x&client_assertion=[redacted]"},
		"JSON members":                    {`{"token":"a\"b","client_assertion":"c","scope":"openid"}`, `{"token":"[redacted]","client_assertion":"[redacted]","scope":"openid"}`},
		"opaque token":                    {"unknown token " + opaque + " given", "unknown token [redacted] given"},
		"words, paths and ids":            {"Errors.User.Machine.Secret.Invalid /management/v1/users/318263461728937463/keys", "Errors.User.Machine.Secret.Invalid /management/v1/users/318263461728937463/keys"},
		"given secret, also form-encoded": {"s=ab%2Bcd%2Fef%3D%3D!; raw ab+cd/ef==!", "s=[redacted]!; raw [redacted]!"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, String(tc.in, "ab+cd/ef=="))
		})
	}
}

func TestTruncate(t *testing.T) {
	assert.Equal(t, "ab...", Truncate("ab€", 3), "a UTF-8 sequence is not split")
	assert.Equal(t, "abc", Truncate("abc", 3))
}

func TestURL(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"password":          {"https://u:p4ss@h.example:8080/x?y#z", "https://[redacted]@h.example:8080/x?y#z"},
		"token as user":     {"http://t0ken@h", "http://[redacted]@h"},
		"@ in the path":     {"https://h/a@b", "https://h/a@b"},
		"no scheme":         {"u:p@h/x", "[redacted]@h/x"},
		"not a URL":         {"ht tp://u:p@h%zz", "ht tp://[redacted]@h%zz"},
		"@ in the password": {"https://u:p@ss@h", "https://[redacted]@h"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, URL(tc.in, 100))
		})
	}
}

func TestLine(t *testing.T) {
	cases := map[string]struct {
		in   string
		n    int
		want string
	}{
		"plain":          {`Errors.User.NotActive "svc" (ÄÖ, 日本)`, 100, `Errors.User.NotActive "svc" (ÄÖ, 日本)`},
		"CR LF TAB":      {"a\r\nb\tc", 100, `a\r\nb\tc`},
		"ESC sequence":   {"red\x1b[31m\x07", 100, `red\x1b[31m\a`},
		"DEL and C1":     {"a\x7f\u0085\u009b", 100, `a\x7f\u0085\u009b`},
		"separators":     {"a\u2028b\u2029c", 100, `a\u2028b\u2029c`},
		"bidi, format":   {"\u202etxt.exe\u2066\u200b\ufeff", 100, `\u202etxt.exe\u2066\u200b\ufeff`},
		"not UTF-8":      {"a\xffb\xc3", 100, `a\xffb\xc3`},
		"shortened":      {"abcdefghij", 8, "abcde..."},
		"escape whole":   {"abcd\x1bxyz", 9, "abcd..."},
		"rune whole":     {"abcd€xyz", 9, "abcd..."},
		"exactly n":      {"abcdefgh", 8, "abcdefgh"},
		"escaped fits":   {"ab\ncd", 6, `ab\ncd`},
		"escaped is cut": {"ab\ncd", 5, "ab..."},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Line(tc.in, tc.n)
			assert.Equal(t, tc.want, got)
			assert.LessOrEqual(t, len(got), tc.n)
			assert.Equal(t, got, Line(got, tc.n), "idempotent")
		})
	}
}

func TestStringKeepsRunesWhole(t *testing.T) {
	s := String(strings.Repeat("€", maxEchoedBody))
	assert.True(t, utf8.ValidString(s), "shortened at a rune's start")
	assert.LessOrEqual(t, len(s), maxEchoedBody+len(ellipsis))
}
