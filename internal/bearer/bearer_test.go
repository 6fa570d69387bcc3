package bearer

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestTokenRejected(t *testing.T) {
	r := func(status int, challenge string) *http.Response {
		h := http.Header{}
		if challenge != "" {
			h.Set("WWW-Authenticate", challenge)
		}
		return &http.Response{StatusCode: status, Header: h}
	}
	assert.True(t, tokenRejected(r(401, "")))
	assert.True(t, tokenRejected(r(401, `Bearer realm="x"`)))
	assert.True(t, tokenRejected(r(401, `Bearer error="invalid_token", error_description="expired"`)))
	assert.False(t, tokenRejected(r(401, `Bearer error="invalid_request"`)))
	assert.False(t, tokenRejected(r(403, `Bearer error="insufficient_scope"`)))
	assert.False(t, tokenRejected(r(200, "")))
}
