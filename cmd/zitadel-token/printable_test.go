package main

import (
	"encoding/json"
	"testing"
)

func TestLineAndText(t *testing.T) {
	for _, c := range []struct{ in, line, text string }{
		{"plain text, ünïcødé, 日本語, emoji 🙂", "plain text, ünïcødé, 日本語, emoji 🙂", "plain text, ünïcødé, 日本語, emoji 🙂"},
		{"\x1b[2K\rok", `\x1b[2K\rok`, `\x1b[2K\rok`},
		{"\x1b]0;title\x07", `\x1b]0;title\a`, `\x1b]0;title\a`},
		{"a\nb\tc", `a\nb\tc`, "a\nb\tc"},
		{"del\x7f bs\x08", `del\x7f bs\b`, `del\x7f bs\b`},
		{"c1 \u009b31m \u0085", `c1 \u009b31m \u0085`, `c1 \u009b31m \u0085`},
		{"evil\u202egnp.exe \u2066x\u2069 \u200e\u200f\u061c", `evil\u202egnp.exe \u2066x\u2069 \u200e\u200f\u061c`, `evil\u202egnp.exe \u2066x\u2069 \u200e\u200f\u061c`},
		{"\ufeffbom zero\u200bwidth", `\ufeffbom zero\u200bwidth`, `\ufeffbom zero\u200bwidth`},
		{"sep\u2028ara\u2029tor", `sep\u2028ara\u2029tor`, `sep\u2028ara\u2029tor`},
		{"tag \U000e0041 private \ue000", `tag \U000e0041 private \ue000`, `tag \U000e0041 private \ue000`},
		{"bad \xff\xc3 utf-8", `bad \xff\xc3 utf-8`, `bad \xff\xc3 utf-8`},
		{"nbsp\u00a0ok", "nbsp\u00a0ok", "nbsp\u00a0ok"},
		{"", "", ""},
	} {
		if got := printableLine(c.in); got != c.line {
			t.Errorf("printableLine(%q) = %q, want %q", c.in, got, c.line)
		}
		if got := printableText(c.in); got != c.text {
			t.Errorf("printableText(%q) = %q, want %q", c.in, got, c.text)
		}
	}
}

func TestJSON(t *testing.T) {
	value := "\x1b[2K\r\u009b\u202e\U000e0041\x7f ok"
	data, err := json.MarshalIndent(map[string]string{"k\u202e": value}, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	got := printableJSON(data)
	for _, b := range string(got) {
		if unsafeRune(b) && b != '\n' && b != '\t' {
			t.Fatalf("JSON left %q in %s", b, got)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("escaped JSON %s does not decode: %v", got, err)
	}
	if back["k\u202e"] != value {
		t.Errorf("escaped JSON decodes to %q, want %q", back, value)
	}
	if got := string(printableJSON([]byte("\"\xff\""))); got != `"\ufffd"` {
		t.Errorf("invalid UTF-8: %s", got)
	}
	plain := []byte(`{"a": "b"}`)
	if got := printableJSON(plain); &got[0] != &plain[0] {
		t.Error("JSON copied text that needs no escape")
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc..."},
		{"ab€", 3, "ab..."},
		{"€€", 4, "€..."},
		{"€", 0, "..."},
	} {
		if got := truncate(c.in, c.n); got != c.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
