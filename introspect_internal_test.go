package serviceuser

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIntrospectionAudienceForms(t *testing.T) {
	for body, want := range map[string][]string{
		`{"active":true,"aud":"api"}`:          {"api"},
		`{"active":true,"aud":["a","b"]}`:      {"a", "b"},
		`{"active":true}`:                      nil,
		`{"active":true,"aud":7,"sub":"user"}`: nil,
	} {
		var r Introspection
		require.NoError(t, json.Unmarshal([]byte(body), &r), body)
		assert.True(t, r.Active, body)
		assert.Equal(t, want, r.Audience, body)
	}
	var r Introspection
	require.NoError(t, json.Unmarshal([]byte(`{"active":true,"aud":7,"sub":"user"}`), &r))
	assert.Equal(t, "user", r.Subject)
}
