package envvalue

import "testing"

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		` {"a":1} `:           `{"a":1}`,
		`'{"a":1}'`:           `{"a":1}`,
		`"{\"a\":1}"`:         `{"a":1}`,
		"\ufeff{\"a\":1}":     `{"a":1}`,
		`"pat-value"`:         `pat-value`,
		`'/run/secrets/key'`:  `/run/secrets/key`,
		`plain`:               `plain`,
		`"unbalanced`:         `"unbalanced`,
		" \ufeff 'quoted' \n": `quoted`,
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}
