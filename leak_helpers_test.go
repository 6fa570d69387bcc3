package serviceuser_test

import (
	"bytes"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
)

const sentinelToken = "SENTINEL-ACCESS-TOKEN-7f3a9c"

// Sentinels, one per credential kind the library handles besides the keys
// and the assertions, which are checked by their PEM lines and as sent.
const (
	sentinelSecret       = "SENTINEL-CLIENT-SECRET-41b8e2"
	sentinelPAT          = "SENTINEL-PAT-93c0d7"
	sentinelIntrospected = "SENTINEL-INTROSPECTED-5e21aa0000000000000000000000000000000000000000000000000000000000000000000000000000" // shaped as ZITADEL's 104 characters
	sentinelRefresh      = "SENTINEL-REFRESH-TOKEN-0d4e17"
)

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

// pemLines returns some lines of the private key in a key file.
func pemLines(t *testing.T, keyFile []byte) []string {
	var kf struct{ Key string }
	require.NoError(t, json.Unmarshal(keyFile, &kf))
	lines := strings.Split(strings.TrimSpace(kf.Key), "\n")
	require.Greater(t, len(lines), 6)
	body := lines[1 : len(lines)-2] // the last body line may be short
	return []string{body[0], body[len(body)/2], body[len(body)-1]}
}

// errorParts returns err and every error inside it a program may reach with
// errors.As and print.
func errorParts(err error) []any {
	parts := []any{err}
	var te *serviceuser.TokenError
	if errors.As(err, &te) {
		parts = append(parts, te, *te)
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		parts = append(parts, re, string(re.Body), re.Response)
	}
	var de *serviceuser.DiscoveryError
	if errors.As(err, &de) {
		parts = append(parts, de)
	}
	var ce *serviceuser.ConfigError
	if errors.As(err, &ce) {
		parts = append(parts, ce)
	}
	return parts
}

// renderers print or encode a value every way a program might.
var renderers = map[string]func(v any) ([]byte, error){
	"json": json.Marshal,
	"xml":  xml.Marshal,
	"yaml": yaml.Marshal,
	"gob": func(v any) ([]byte, error) {
		var b bytes.Buffer
		err := gob.NewEncoder(&b).Encode(v)
		return b.Bytes(), err
	},
	"slog text": func(v any) ([]byte, error) {
		var b bytes.Buffer
		slog.New(slog.NewTextHandler(&b, nil)).Error("failed", "v", v)
		return b.Bytes(), nil
	},
	"slog JSON": func(v any) ([]byte, error) {
		var b bytes.Buffer
		slog.New(slog.NewJSONHandler(&b, nil)).Error("failed", "v", v)
		return b.Bytes(), nil
	},
}

func init() {
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "% x", "%#q", "%T"} {
		renderers["fmt "+verb] = func(v any) ([]byte, error) { return []byte(fmt.Sprintf(verb, v)), nil }
	}
}

// render runs one renderer; an error is no leak, a panic is a failure.
func render(t *testing.T, name string, r func(any) ([]byte, error), v any) (out []byte) {
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s of %T panics: %v", name, v, p)
		}
	}()
	out, _ = r(v)
	return out
}

// requireNoLeak renders every subject with every renderer and fails if any
// secret shows, in any of the forms the renderers use.
func requireNoLeak(t *testing.T, secrets []string, subjects ...any) {
	t.Helper()
	var forms []string
	for _, s := range secrets {
		forms = append(forms, encodedForms(s)...)
	}
	for _, v := range subjects {
		for name, r := range renderers {
			out := string(render(t, name, r, v))
			for _, f := range forms {
				if i := strings.Index(out, f); i >= 0 {
					t.Fatalf("%s of %T shows a secret (as %q) in …%s…", name, v, f, out[max(i-200, 0):min(i+len(f)+50, len(out))])
				}
			}
		}
	}
}

// encodedForms are the ways a printer or an encoder may write s: as is,
// in hex, as byte lists, and in base64 at each alignment.
func encodedForms(s string) []string {
	b := []byte(s)
	forms := []string{s, hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)), fmt.Sprintf("% x", b),
		strings.Trim(fmt.Sprint(b), "[]"), strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%#v", b), "[]byte{"), "}")}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for k := range 3 {
			e := enc.EncodeToString(append(make([]byte, k), b...))
			start, end := (k+2)/3*4, (k+len(b))/3*4
			forms = append(forms, e[start:end])
		}
	}
	return forms
}
