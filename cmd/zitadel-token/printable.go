package main

// Escaping of text that came from a server or a file before it is printed:
// a raw control character in a claim, an id or an error text could move the
// cursor, erase a line, retitle the window or reorder the text around it,
// and so make a terminal show what was never printed.

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// unsafeRune reports whether r must not reach a terminal raw: C0 and C1
// controls (ESC, CR, BEL, CSI, ...), DEL, format characters (bidi overrides
// and isolates, zero-width characters, the byte order mark), line and
// paragraph separators, private-use and unassigned code points. Letters,
// marks, digits, punctuation, symbols and spaces are safe.
func unsafeRune(r rune) bool { return !unicode.IsGraphic(r) }

// truncate shortens s to at most n bytes and ends it with "..." when it
// was cut, never inside a UTF-8 sequence: a server's long value must not
// flood a line, nor a cut leave half a character to escape.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// printableLine returns s with every unsafe character escaped as in a Go string
// literal (\x1b, \r, \n, \u202e) and every byte that is not UTF-8 as \xNN:
// one line that shows what was received. Text without such characters is
// returned as it is.
func printableLine(s string) string { return escapeUnsafe(s, false) }

// printableText is printableLine for text of several lines: line feeds and
// tabs are kept.
func printableText(s string) string { return escapeUnsafe(s, true) }

func escapeUnsafe(s string, layout bool) string {
	i := unsafeIndex(s, layout)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for s = s[i:]; s != ""; {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[s[0]>>4])
			b.WriteByte(hexDigits[s[0]&0xf])
		case keepRune(r, layout):
			b.WriteString(s[:size])
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		s = s[size:]
	}
	return b.String()
}

// unsafeIndex returns the index of the first character of s to escape, or -1.
func unsafeIndex(s string, layout bool) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
		if !keepRune(r, layout) {
			return i
		}
	}
	return -1
}

const hexDigits = "0123456789abcdef"

func keepRune(r rune, layout bool) bool {
	return !unsafeRune(r) || layout && (r == '\n' || r == '\t')
}

// printableJSON returns JSON text with its unsafe characters written as \uXXXX
// escapes (surrogate pairs above U+FFFF), which decode to the same values,
// and bytes that are not UTF-8 as \ufffd. In valid JSON such characters can
// only stand inside strings; line feeds and tabs, which stand between values
// of indented JSON, are kept. JSON without such characters is returned as
// it is.
func printableJSON(data []byte) []byte {
	s := string(data)
	i := unsafeIndex(s, true)
	if i < 0 {
		return data
	}
	out := make([]byte, 0, len(data)+16)
	out = append(out, data[:i]...)
	for s = s[i:]; s != ""; {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			out = append(out, `\ufffd`...)
		case keepRune(r, true):
			out = append(out, s[:size]...)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			out = appendU(appendU(out, hi), lo)
		default:
			out = appendU(out, r)
		}
		s = s[size:]
	}
	return out
}

// appendU appends the JSON escape \uXXXX of the UTF-16 code unit r.
func appendU(out []byte, r rune) []byte {
	return append(out, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
