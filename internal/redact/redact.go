// Package redact makes text from servers and users safe to keep in errors
// and logs: it removes credentials and bounds the length.
package redact

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Marker replaces secrets in text that may be shown to a user.
const Marker = "[redacted]"

// Format prints text, which holds no secret, for every verb: quoted for %q,
// as is for all others, so that no verb reaches the fields behind it. It is
// the fmt.Formatter of values that hold secrets.
func Format(f fmt.State, verb rune, text string) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", text)
		return
	}
	io.WriteString(f, text)
}

// minSecretLength: shorter values are not credentials, and replacing them
// would mangle ordinary words.
const minSecretLength = 8

// maxEchoedBody bounds how much of an error body is kept in errors.
const maxEchoedBody = 2 << 10

// jwtPattern matches compact JWS/JWE values, whatever issued them.
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_\-.]*`)

// ContainsJWT reports whether s holds something shaped like a JWT.
func ContainsJWT(s string) bool { return jwtPattern.MatchString(s) }

// tokenFields are the JSON members and form fields that carry credentials.
const tokenFields = `access_token|id_token|refresh_token|assertion|client_secret|client_assertion|token`

// tokenFieldPattern matches JSON members that carry credentials; the value
// may hold escaped quotes.
var tokenFieldPattern = regexp.MustCompile(`("(?:` + tokenFields + `)"\s*:\s*")(?:[^"\\]|\\.)*(")`)

// formFieldPattern matches form-encoded fields that carry credentials.
var formFieldPattern = regexp.MustCompile(`\b((?:` + tokenFields + `)=)[^&\s"'<>]*`)

// authorizationPattern matches the credentials of Basic and Bearer
// authorization values (RFC 7617, RFC 6750's b64token), also form-encoded.
var authorizationPattern = regexp.MustCompile(`(?i)\b((?:basic|bearer)(?:\s+|%20|\+))([A-Za-z0-9\-._~+/]+=*)`)

// authParams are the parameters of Basic and Bearer challenges: in
// `Bearer error="invalid_token"`, "error" is not a credential.
var authParams = map[string]bool{"realm": true, "scope": true, "error": true, "error_description": true, "error_uri": true, "charset": true}

// authProse are words that follow "basic" or "bearer" in error messages
// ("invalid basic auth header", "JWT bearer grant"): not credentials.
var authProse = map[string]bool{
	"auth": true, "authentication": true, "authorization": true, "credentials": true, "header": true,
	"token": true, "tokens": true, "grant": true, "scheme": true, "challenge": true, "and": true, "or": true,
	"is": true, "was": true, "not": true, "missing": true, "invalid": true, "required": true, "expected": true,
}

// opaqueTokenPattern matches long runs of token characters; opaqueToken
// decides whether one looks random enough to be a credential.
var opaqueTokenPattern = regexp.MustCompile(`[A-Za-z0-9\-_+/]{32,}=*`)

// String removes from s the given secrets (also form-encoded), JWTs, the
// credentials of Basic and Bearer authorization values, the values of
// credential-carrying JSON members and form fields, and opaque token-shaped
// strings; and truncates it to maxEchoedBody.
func String(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) >= minSecretLength {
			s = strings.ReplaceAll(s, secret, Marker)
			s = strings.ReplaceAll(s, url.QueryEscape(secret), Marker)
		}
	}
	s = jwtPattern.ReplaceAllString(s, Marker)
	s = tokenFieldPattern.ReplaceAllString(s, "${1}"+Marker+"${2}")
	s = formFieldPattern.ReplaceAllString(s, "${1}"+Marker)
	s = redactAuthorization(s)
	s = opaqueTokenPattern.ReplaceAllStringFunc(s, redactOpaque)
	return Truncate(s, maxEchoedBody)
}

// redactAuthorization replaces the credentials of Basic and Bearer values,
// leaving challenge parameters (`Bearer realm="x"`) alone.
func redactAuthorization(s string) string {
	matches := authorizationPattern.FindAllStringSubmatchIndex(s, -1)
	if matches == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		credential := s[m[4]:m[5]]
		name := strings.ToLower(strings.TrimRight(credential, "="))
		if name != strings.ToLower(credential) && authParams[name] || authProse[strings.ToLower(credential)] {
			continue
		}
		b.WriteString(s[last:m[4]])
		b.WriteString(Marker)
		last = m[5]
	}
	b.WriteString(s[last:])
	return b.String()
}

// redactOpaque replaces a run of token characters that mixes upper case,
// lower case and digits, as random tokens and secrets do and words, paths
// and numeric ids do not.
func redactOpaque(run string) string {
	if strings.ContainsAny(run, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") &&
		strings.ContainsAny(run, "abcdefghijklmnopqrstuvwxyz") &&
		strings.ContainsAny(run, "0123456789") {
		return Marker
	}
	return run
}

// Header returns a copy of h with every value redacted.
func Header(h http.Header, secrets []string) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for name, values := range h {
		for _, v := range values {
			out[name] = append(out[name], String(v, secrets...))
		}
	}
	return out
}

// ellipsis ends text that was shortened.
const ellipsis = "..."

// Invisible reports control, format and line-separator characters (C0 and
// C1 controls among them CR, LF, ESC and DEL; U+2028 and U+2029; bidi and
// other format characters; unassigned code points): those that can forge
// log lines, move a terminal's cursor or hide what a text says.
func Invisible(r rune) bool { return !unicode.IsGraphic(r) }

// Line makes s, text that came from a server or another program, safe to
// show on one line of a log or a terminal: each Invisible character is
// written as a Go escape (\r, \x1b, \u202e), as is each byte that is not
// UTF-8, and the result is at most n bytes (n >= 3), ending in "..." when
// shortened; no escape is split. Text without such characters and within n
// comes back unchanged, so Line applied twice gives what it gave once.
func Line(s string, n int) string {
	if len(s) <= n && utf8.ValidString(s) && !strings.ContainsFunc(s, Invisible) {
		return s
	}
	var b strings.Builder
	cut := -1 // where the text ends if it has to be shortened
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		piece := s[i : i+size]
		switch {
		case r == utf8.RuneError && size == 1:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case Invisible(r):
			q := strconv.QuoteRune(r)
			piece = q[1 : len(q)-1]
		}
		if cut < 0 && b.Len()+len(piece) > n-len(ellipsis) {
			cut = b.Len()
		}
		if b.Len()+len(piece) > n {
			return b.String()[:cut] + ellipsis
		}
		b.WriteString(piece)
		i += size
	}
	return b.String()
}

// Truncate shortens s to at most n bytes, not splitting a UTF-8 sequence.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis
}

// URL shortens raw, a URL given by a user, to at most n bytes for an error,
// with any user info (user:password@, or a token used as the user name)
// replaced by Marker. It works on text that does not parse as a URL.
func URL(raw string, n int) string {
	start := 0
	if i := strings.Index(raw, "//"); i >= 0 {
		start = i + 2
	}
	end := len(raw)
	if i := strings.IndexAny(raw[start:], "/?#"); i >= 0 {
		end = start + i
	}
	if at := strings.LastIndex(raw[start:end], "@"); at >= 0 {
		raw = raw[:start] + Marker + raw[start+at:]
	}
	return Truncate(raw, n)
}
