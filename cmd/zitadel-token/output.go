package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// What the tool prints of a server's answers (claims, ids, subjects, error
// texts) goes through printableLine and printableJSON (printable.go), so that no control character a
// server sends reaches the terminal raw: an ESC or a CR in an org id could
// otherwise turn a FAIL line of doctor into an ok one. JSON output is
// escaped within its strings and decodes to the same values; api's answers
// that are not JSON are escaped only on a terminal (see printAnswer).

// maxShown bounds one server value repeated in a line of text.
const maxShown = 200

// shown is a server's value as a line may repeat it: shortened, escaped.
func shown(s string) string { return printableLine(truncate(s, maxShown)) }

// quoted is shown in double quotes, Go-escaped.
func quoted(s string) string { return strconv.Quote(truncate(s, maxShown)) }

// libraryPrefix is the library's "serviceuser: " at the start of an error
// text or of a wrapped one.
var libraryPrefix = regexp.MustCompile(`(^|: )serviceuser: `)

// errorText is err's message on one line and escaped, without the library's
// "serviceuser: " prefixes: the tool's own prefix names who speaks.
func errorText(err error) string {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	for {
		next := libraryPrefix.ReplaceAllString(msg, "$1")
		if next == msg {
			break
		}
		msg = next
	}
	return printableLine(msg)
}

// writeJSON prints v as JSON with its unsafe characters escaped.
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		return err
	}
	_, err := w.Write(printableJSON(b.Bytes()))
	return err
}

// isTerminal reports whether w is a terminal (a character device), where
// api escapes an answer that is not JSON.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
