package grpcauth_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	grpcauth "github.com/go-serviceuser/serviceuser/grpcauth"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// refuseAll reports every token inactive.
type refuseAll struct{}

func (refuseAll) Introspect(context.Context, string) (*introspection.Result, error) {
	return &introspection.Result{}, nil
}

func TestServerAcceptsActiveTokenAndHandsOverResult(t *testing.T) {
	z := newZitadel(t)
	a := startAPI(t, newIntrospector(t, z), true)
	cfg := userConfig(t, z)
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()
	conn := a.dial(t, grpcauth.Credentials{Source: ts}.DialOptions()...)

	require.NoError(t, check(t.Context(), conn))
	require.NoError(t, watch(t.Context(), conn))

	_, results := a.seen()
	require.Len(t, results, 2, "unary and stream handlers")
	key, err := cfg.Key.CurrentKey()
	require.NoError(t, err)
	for _, r := range results {
		require.NotNil(t, r)
		assert.True(t, r.Active)
		assert.Equal(t, key.UserID, r.Subject)
	}
}

// callWith calls a's health service with the given authorization metadata
// (none when empty), unary and as a stream, and returns both errors.
func callWith(t *testing.T, a *api, authorization ...string) (unary, stream error) {
	conn := a.dial(t)
	ctx := t.Context()
	for _, v := range authorization {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", v)
	}
	return check(ctx, conn), watch(ctx, conn)
}

func TestServerRefusesCallsWithoutActiveToken(t *testing.T) {
	z := newZitadel(t)
	a := startAPI(t, newIntrospector(t, z), true)
	ts := newSource(t, z)
	tok, err := ts.Token()
	require.NoError(t, err)
	revoked := newSource(t, z)
	old, err := revoked.Token()
	require.NoError(t, err)
	z.RevokeToken(old.AccessToken)
	foreign, err := newSource(t, newZitadel(t)).Token()
	require.NoError(t, err)

	tests := []struct {
		name          string
		authorization []string
		introspected  bool
	}{
		{"no metadata", nil, false},
		{"empty", []string{""}, false},
		{"other scheme", []string{"Basic " + tok.AccessToken}, false},
		{"scheme only", []string{"Bearer "}, false},
		{"two values", []string{"Bearer " + tok.AccessToken, "Bearer " + tok.AccessToken}, false},
		{"token of a shape ZITADEL never issues", []string{"Bearer not-a-token"}, false},
		{"unknown token", []string{"Bearer " + strings.Repeat("u", 104)}, true},
		{"revoked token", []string{"Bearer " + old.AccessToken}, true},
		{"token of another instance", []string{"Bearer " + foreign.AccessToken}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := z.IntrospectionRequests()
			unary, stream := callWith(t, a, tt.authorization...)
			assert.Equal(t, codes.Unauthenticated, status.Code(unary), "%v", unary)
			assert.Equal(t, codes.Unauthenticated, status.Code(stream), "%v", stream)
			assert.Equal(t, tt.introspected, z.IntrospectionRequests() > before)
		})
	}
	_, results := a.seen()
	assert.Empty(t, results, "no handler ran")

	unary, stream := callWith(t, a, "bearer "+tok.AccessToken)
	assert.NoError(t, unary, "the scheme is case-insensitive")
	assert.NoError(t, stream)
}

func TestServerUnavailableWhenIntrospectionFails(t *testing.T) {
	z := newZitadel(t)
	a := startAPI(t, newIntrospector(t, z), true)
	tok, err := newSource(t, z).Token()
	require.NoError(t, err)

	for _, f := range []serviceusertest.Fault{{}, {Status: http.StatusBadGateway, Body: "<html>"}, {CloseConn: true}} {
		// Every request of both lookups: a request without an answer is
		// sent again, up to 6 in all; the faults left over are dropped.
		z.FailNextIntrospection(12, f)
		unary, stream := callWith(t, a, "Bearer "+tok.AccessToken)
		z.FailNextIntrospection(0, f)
		for _, err := range []error{unary, stream} {
			assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
			assert.NotContains(t, err.Error(), tok.AccessToken)
		}
	}
	_, results := a.seen()
	assert.Empty(t, results, "no handler ran")
}

// failing is an introspector that cannot tell.
type failing struct{ err error }

func (f failing) Introspect(context.Context, string) (*introspection.Result, error) {
	return nil, f.err
}

func TestServerInterceptorsDirectly(t *testing.T) {
	incoming := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer tok"))
	active := &introspection.Result{Active: true, Subject: "u1"}
	tests := []struct {
		name string
		in   grpcauth.Introspector
		code codes.Code
	}{
		{"active", staticIntrospector{active}, codes.OK},
		{"nil result", staticIntrospector{nil}, codes.Unauthenticated},
		{"inactive", refuseAll{}, codes.Unauthenticated},
		{"error", failing{errors.New("introspection: 500 token tok")}, codes.Unavailable},
		{"no introspector", nil, codes.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *introspection.Result
			handler := func(ctx context.Context, _ any) (any, error) {
				got, _ = introspection.FromContext(ctx)
				return "ok", nil
			}
			_, err := grpcauth.UnaryServerInterceptor(tt.in)(incoming, nil, &grpc.UnaryServerInfo{}, handler)
			assert.Equal(t, tt.code, status.Code(err))
			if tt.code == codes.OK {
				assert.Same(t, active, got)
			} else {
				assert.Nil(t, got)
				assert.NotContains(t, err.Error(), "tok\"")
			}
		})
	}
}

func TestServerCancelledCaller(t *testing.T) {
	ctx, cancel := context.WithCancel(metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer tok")))
	cancel()
	handler := func(context.Context, any) (any, error) { return nil, nil }
	_, err := grpcauth.UnaryServerInterceptor(failing{context.Canceled})(ctx, nil, &grpc.UnaryServerInfo{}, handler)
	assert.Equal(t, codes.Canceled, status.Code(err))
}

type staticIntrospector struct{ r *introspection.Result }

func (s staticIntrospector) Introspect(context.Context, string) (*introspection.Result, error) {
	return s.r, nil
}
