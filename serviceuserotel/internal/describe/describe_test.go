package describe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/go-serviceuser/serviceuser"
)

func TestErrTypeNamesTheLibrarysTypeBehindWrappers(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&serviceuser.TokenError{}, "*serviceuser.TokenError"},
		{fmt.Errorf("a: %w", fmt.Errorf("b: %w", &serviceuser.DiscoveryError{})), "*serviceuser.DiscoveryError"},
		{&serviceuser.KeyFileError{Err: context.Canceled}, "*serviceuser.KeyFileError"},
		{fmt.Errorf("wait: %w", context.DeadlineExceeded), "context.DeadlineExceeded"},
		{fmt.Errorf("x: %w", serviceuser.ErrPATRejected), "serviceuser.ErrPATRejected"},
		{&url.Error{Op: "Post", URL: "https://secret@x", Err: &net.OpError{Op: "dial"}}, "*url.Error"},
		{errors.Join(errors.New("a"), errors.New("b")), "*errors.joinError"},
	} {
		assert.Equal(t, c.want, ErrType(c.err), "%v", c.err)
	}
}

func TestErrKeepsOnlyStandardCodes(t *testing.T) {
	d := Err(&serviceuser.TokenError{StatusCode: 400, Code: "invalid_grant"})
	assert.Equal(t, Detail{Type: "*serviceuser.TokenError", Endpoint: "token", StatusCode: 400, Code: "invalid_grant"}, d)
	d = Err(&serviceuser.TokenError{StatusCode: 400, Code: "Errors.User.NotActive", Endpoint: serviceuser.EndpointIntrospection})
	assert.Equal(t, Detail{Type: "*serviceuser.TokenError", Endpoint: "introspection", StatusCode: 400, Code: OtherCode}, d)
	d = Err(&serviceuser.TokenError{Err: errors.New("connection refused")})
	assert.Equal(t, Detail{Type: "*serviceuser.TokenError", Endpoint: "token"}, d)
	assert.Equal(t, Detail{Type: "*errors.errorString"}, Err(errors.New("boom")))
}

func TestExpiry(t *testing.T) {
	var e Expiry
	now := time.Now()
	_, ok := e.Remaining(now)
	assert.False(t, ok, "none before the first token")
	e.Set(time.Time{})
	_, ok = e.Remaining(now)
	assert.False(t, ok, "a zero expiry is no token")
	e.Set(now.Add(90 * time.Second))
	s, ok := e.Remaining(now)
	assert.True(t, ok)
	assert.InDelta(t, 90, s, 1e-9)
	s, _ = e.Remaining(now.Add(time.Hour))
	assert.Zero(t, s)
}

func TestOutcomes(t *testing.T) {
	assert.Equal(t, "ok", Outcome(nil))
	assert.Equal(t, "error", Outcome(errors.New("x")))
	assert.Equal(t, "ok", ReloadOutcome(nil))
	assert.Equal(t, "refused", ReloadOutcome(errors.New("x")))
	assert.Equal(t, "waited", Mode(true))
	assert.Equal(t, "ahead", Mode(false))
}
