package hooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// ctxKey keys the values the tests put in contexts.
type ctxKey string

// callerRecords is a slog.Handler that keeps, for each record, the value
// its context carries under ctxKey("caller").
type callerRecords struct {
	mu      sync.Mutex
	callers []any
}

func (h *callerRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h *callerRecords) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *callerRecords) WithGroup(string) slog.Handler            { return h }

func (h *callerRecords) Handle(ctx context.Context, _ slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.callers = append(h.callers, ctx.Value(ctxKey("caller")))
	return nil
}

// take returns the callers kept so far and forgets them.
func (h *callerRecords) take() []any {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := h.callers
	h.callers = nil
	return seen
}

func TestJoinCallsEachInTurn(t *testing.T) {
	var calls []string
	a := &Hooks{RefreshDone: func(context.Context, RefreshDoneInfo) { calls = append(calls, "a") }}
	b := &Hooks{RefreshDone: func(context.Context, RefreshDoneInfo) { calls = append(calls, "b") }}
	joined := Join(a, nil, &Hooks{}, b)
	joined.RefreshDone(context.Background(), RefreshDoneInfo{})
	assert.Equal(t, []string{"a", "b"}, calls)
	assert.Nil(t, joined.RefreshStart, "no callback set: none joined")
}

// TestJoinJoinsEveryField: every callback of Hooks is a
// func(context.Context, <its name>Info), and Join passes each event,
// with its ctx, to the callbacks of every hooks value in turn; one that
// panics does not keep the next from running.
func TestJoinJoinsEveryField(t *testing.T) {
	var calls []string
	record := func(who string, hook reflect.Type) reflect.Value {
		return reflect.MakeFunc(hook, func(args []reflect.Value) []reflect.Value {
			ctx, info := args[0].Interface().(context.Context), args[1]
			calls = append(calls, fmt.Sprintf("%s %v %s", who, ctx.Value(ctxKey("caller")), info.Type().Name()))
			if who == "a" {
				panic("a bug in a callback")
			}
			return nil
		})
	}
	var a, b Hooks
	av, bv := reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem()
	for i := range av.NumField() {
		field := av.Type().Field(i)
		hook := field.Type
		require.Equal(t, reflect.Func, hook.Kind(), field.Name)
		require.Equal(t, 2, hook.NumIn(), field.Name)
		require.Equal(t, 0, hook.NumOut(), field.Name)
		require.Equal(t, reflect.TypeFor[context.Context](), hook.In(0), field.Name)
		require.Equal(t, field.Name+"Info", hook.In(1).Name())
		av.Field(i).Set(record("a", hook))
		bv.Field(i).Set(record("b", hook))
	}
	joined := reflect.ValueOf(Join(&a, nil, &Hooks{}, &b)).Elem()
	for i := range joined.NumField() {
		calls = nil
		name := joined.Type().Field(i).Name
		ctx := context.WithValue(t.Context(), ctxKey("caller"), name)
		joined.Field(i).Call([]reflect.Value{reflect.ValueOf(ctx), reflect.Zero(joined.Field(i).Type().In(1))})
		assert.Equal(t, []string{"a " + name + " " + name + "Info", "b " + name + " " + name + "Info"}, calls)
	}
	only := Join(nil, &b)
	assert.Equal(t, reflect.ValueOf(b.RefreshDone).Pointer(), reflect.ValueOf(only.RefreshDone).Pointer(),
		"a single callback is not wrapped")
}

// TestSlogNilLoggerLogsToDefault: Slog(nil) logs to slog.Default(),
// the one in place when the event happens, and never panics.
func TestSlogNilLoggerLogsToDefault(t *testing.T) {
	h := Slog(nil)
	var buf bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	h.DiscoveryDone(context.Background(), DiscoveryDoneInfo{})
	h.RefreshStart(context.Background(), RefreshStartInfo{})
	h.RefreshDone(context.Background(), RefreshDoneInfo{})
	h.TokenRejected(context.Background(), TokenRejectedInfo{})
	h.CredentialReloaded(context.Background(), CredentialReloadedInfo{})
	h.IntrospectionDone(context.Background(), IntrospectionDoneInfo{Err: errors.New("HTTP 502")})
	assert.Equal(t, 6, strings.Count(buf.String(), "\n"), buf.String())
	assert.Contains(t, buf.String(), "level=WARN msg=\"serviceuser: introspection failed\"")
}

func TestSlogLevels(t *testing.T) {
	var buf bytes.Buffer
	h := Slog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	failure := errors.New("serviceuser: token request failed: HTTP 500")
	cases := []struct {
		fire  func()
		level string
		msg   string
	}{
		{func() { h.RefreshDone(context.Background(), RefreshDoneInfo{Err: failure}) }, "WARN", "token request failed"},
		{func() { h.RefreshDone(context.Background(), RefreshDoneInfo{}) }, "DEBUG", "token refreshed"},
		{func() { h.RefreshStart(context.Background(), RefreshStartInfo{Waited: true, Attempt: 1}) }, "DEBUG", "token request"},
		{func() { h.DiscoveryDone(context.Background(), DiscoveryDoneInfo{Err: failure}) }, "WARN", "discovery failed"},
		{func() { h.DiscoveryDone(context.Background(), DiscoveryDoneInfo{}) }, "DEBUG", "discovery done"},
		{func() { h.TokenRejected(context.Background(), TokenRejectedInfo{}) }, "WARN", "token rejected"},
		{func() { h.CredentialReloaded(context.Background(), CredentialReloadedInfo{Err: failure}) }, "WARN", "credential refused"},
		{func() { h.CredentialReloaded(context.Background(), CredentialReloadedInfo{KeyID: "k2"}) }, "INFO", "credential reloaded"},
		{func() { h.IntrospectionDone(context.Background(), IntrospectionDoneInfo{Err: failure}) }, "WARN", "introspection failed"},
		{func() { h.IntrospectionDone(context.Background(), IntrospectionDoneInfo{Active: true}) }, "DEBUG", "introspection done"},
		{func() { h.IntrospectionDone(context.Background(), IntrospectionDoneInfo{}) }, "DEBUG", "key refused (ZITADEL answers both alike)"},
	}
	for _, tc := range cases {
		buf.Reset()
		tc.fire()
		line := buf.String()
		assert.Contains(t, line, "level="+tc.level, line)
		assert.Contains(t, line, tc.msg, line)
	}
}

// TestSlogLogsEveryEvent: Slog sets every field of Hooks, and an
// event that reports no error is logged once, at the level its godoc and
// the README give, with the context the event came with: a new hook must
// get its level here too.
func TestSlogLogsEveryEvent(t *testing.T) {
	want := map[string]string{
		"DiscoveryDone":      "DEBUG",
		"RefreshStart":       "DEBUG",
		"RefreshDone":        "DEBUG",
		"TokenRejected":      "WARN", // an API refused a token: always worth a look
		"CredentialReloaded": "INFO",
		"IntrospectionDone":  "DEBUG",
	}
	var buf bytes.Buffer
	text := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	recs := &callerRecords{}
	h := reflect.ValueOf(Join(Slog(slog.New(text)), Slog(slog.New(recs)))).Elem()
	for i := range h.NumField() {
		name, hook := h.Type().Field(i).Name, h.Field(i)
		if !assert.False(t, hook.IsNil(), "Slog does not log %s", name) {
			continue
		}
		buf.Reset()
		ctx := context.WithValue(t.Context(), ctxKey("caller"), name)
		hook.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.Zero(hook.Type().In(1))})
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		assert.Len(t, lines, 1, name)
		assert.Contains(t, lines[0], "level="+want[name]+" ", "%s: %s", name, lines[0])
		seen := recs.take()
		if assert.Len(t, seen, 1, name) {
			assert.Equal(t, name, seen[0], "%s is logged with its ctx", name)
		}
	}
}
