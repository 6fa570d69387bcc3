package grpcauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	grpcauth "github.com/go-serviceuser/serviceuser/grpcauth"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Names of the health service's methods, which the test API serves.
const (
	healthService = "/grpc.health.v1.Health/"
	healthCheck   = healthService + "Check"
	healthWatch   = healthService + "Watch"
)

// userToken is a token of a new service user of z for the API, with the
// user's ID.
func userToken(t *testing.T, z *serviceusertest.Server) (token, userID string) {
	t.Helper()
	cfg := userConfig(t, z)
	tok, err := cfg.Token(context.Background())
	require.NoError(t, err)
	key, err := cfg.Key.CurrentKey()
	require.NoError(t, err)
	return tok.AccessToken, key.UserID
}

// TestServerRoleRequirements: a method's requirement lets through a token
// with the role, answers PermissionDenied to an active one without it, and
// Unauthenticated to no token; a requirement for a whole service holds for
// each of its methods, a method's own overriding it; other methods need an
// active token only.
func TestServerRoleRequirements(t *testing.T) {
	z := newZitadel(t)
	in := newIntrospector(t, z)
	admin, adminID := userToken(t, z)
	z.GrantRole(adminID, apiApp(z).ProjectID, "admin")
	reader, readerID := userToken(t, z)
	z.GrantRole(readerID, apiApp(z).ProjectID, "reader")
	other := z.NewOrganization("Other Org")
	adminOnly := introspection.RequireAnyRole("admin")

	tests := []struct {
		name         string
		opts         []grpcauth.ServerOption
		token        string
		check, watch codes.Code
	}{
		{"Check needs admin: admin", []grpcauth.ServerOption{grpcauth.RequireFor(adminOnly, healthCheck)}, admin, codes.OK, codes.OK},
		{"Check needs admin: reader", []grpcauth.ServerOption{grpcauth.RequireFor(adminOnly, healthCheck)}, reader, codes.PermissionDenied, codes.OK},
		{"Check needs admin: no token", []grpcauth.ServerOption{grpcauth.RequireFor(adminOnly, healthCheck)}, "", codes.Unauthenticated, codes.Unauthenticated},
		{"Check needs admin: inactive token", []grpcauth.ServerOption{grpcauth.RequireFor(adminOnly, healthCheck)}, "not-a-token", codes.Unauthenticated, codes.Unauthenticated},
		{"service needs admin: reader", []grpcauth.ServerOption{grpcauth.RequireFor(adminOnly, healthService)}, reader, codes.PermissionDenied, codes.PermissionDenied},
		{"service needs admin: admin", []grpcauth.ServerOption{grpcauth.RequireFor(adminOnly, healthService)}, admin, codes.OK, codes.OK},
		{"service needs admin, Watch reader", []grpcauth.ServerOption{
			grpcauth.RequireFor(adminOnly, healthService), grpcauth.RequireFor(introspection.RequireAnyRole("reader"), healthWatch),
		}, reader, codes.PermissionDenied, codes.OK},
		{"admin in another organization", []grpcauth.ServerOption{grpcauth.RequireFor(adminOnly.InOrg(other), healthService)}, admin, codes.PermissionDenied, codes.PermissionDenied},
		{"admin and reader: admin", []grpcauth.ServerOption{grpcauth.RequireFor(introspection.RequireAllRoles("admin", "reader"), healthService)}, admin, codes.PermissionDenied, codes.PermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := startAPI(t, in, true, tt.opts...)
			var auth []string
			if tt.token != "" {
				auth = []string{"Bearer " + tt.token}
			}
			check, watch := callWith(t, a, auth...)
			assert.Equal(t, tt.check, status.Code(check), "Check: %v", check)
			assert.Equal(t, tt.watch, status.Code(watch), "Watch: %v", watch)
			for _, err := range []error{check, watch} {
				if tt.token != "" {
					assert.NotContains(t, fmt.Sprint(err), tt.token)
				}
			}
		})
	}
}

// TestServerPublicMethods: a public method takes calls without a token, and
// its handler finds no Result; a call that sends a token has it checked as
// anywhere else; the other methods still need one.
func TestServerPublicMethods(t *testing.T) {
	z := newZitadel(t)
	a := startAPI(t, newIntrospector(t, z), true, grpcauth.PublicMethods(healthCheck))
	token, userID := userToken(t, z)

	check, watch := callWith(t, a)
	assert.NoError(t, check)
	assert.Equal(t, codes.Unauthenticated, status.Code(watch), "%v", watch)
	_, results := a.seen()
	require.Len(t, results, 1)
	assert.Nil(t, results[0], "no token, no Result")

	check, watch = callWith(t, a, "Bearer "+token)
	assert.NoError(t, check)
	assert.NoError(t, watch)
	_, results = a.seen()
	require.Len(t, results, 3)
	for _, r := range results[1:] {
		require.NotNil(t, r)
		assert.Equal(t, userID, r.Subject)
	}

	for _, auth := range [][]string{{"Bearer not-a-token"}, {"Basic dXNlcjpwYXNz"}, {"Bearer " + token, "Bearer " + token}} {
		check, _ = callWith(t, a, auth...)
		assert.Equal(t, codes.Unauthenticated, status.Code(check), "%q: a token sent is checked: %v", auth, check)
	}

	// Every request of the lookup: a request without an answer is sent again, up to 6 in all.
	z.FailNextIntrospection(6, serviceusertest.Fault{Status: http.StatusBadGateway})
	check, _ = callWith(t, a, "Bearer "+strings.Repeat("a", 104))
	assert.Equal(t, codes.Unavailable, status.Code(check), "%v", check)
}

// A method name that is neither "/package.Service/Method" nor
// "/package.Service/" would never match, leaving its method open to any
// active token: every call fails instead, naming it.
func TestServerRefusesMalformedMethodNames(t *testing.T) {
	incoming := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer tok"))
	admin := withRole(t, "admin")
	handler := func(context.Context, any) (any, error) { return "ok", nil }
	for _, name := range []string{"grpc.health.v1.Health/Check", "/grpc.health.v1.Health", "/grpc.health.v1.Health/Check/", "//Check", "", "/a/b/c"} {
		for _, opt := range []grpcauth.ServerOption{grpcauth.RequireFor(introspection.RequireAnyRole("admin"), name), grpcauth.PublicMethods(name)} {
			_, err := grpcauth.UnaryServerInterceptor(staticIntrospector{admin}, opt)(incoming, nil, &grpc.UnaryServerInfo{FullMethod: healthCheck}, handler)
			assert.Equal(t, codes.Internal, status.Code(err), "%q", name)
			assert.Contains(t, status.Convert(err).Message(), fmt.Sprintf("%q", name))
			err = grpcauth.StreamServerInterceptor(staticIntrospector{admin}, opt)(nil, &stubStream{ctx: incoming}, &grpc.StreamServerInfo{FullMethod: healthWatch},
				func(any, grpc.ServerStream) error { return nil })
			assert.Equal(t, codes.Internal, status.Code(err), "%q", name)
		}
	}
}

// TestServerRequirementsDirectly: the interceptors answer by the Result
// alone, unary and stream alike.
func TestServerRequirementsDirectly(t *testing.T) {
	incoming := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer tok"))
	reader := withRole(t, "reader")
	for _, tt := range []struct {
		name string
		in   grpcauth.Introspector
		ctx  context.Context
		code codes.Code
	}{
		{"has the role", staticIntrospector{reader}, incoming, codes.OK},
		{"lacks the role", staticIntrospector{&introspection.Result{Active: true}}, incoming, codes.PermissionDenied},
		{"inactive", refuseAll{}, incoming, codes.Unauthenticated},
		{"no token", staticIntrospector{reader}, context.Background(), codes.Unauthenticated},
		{"cannot tell", failing{errors.New("down")}, incoming, codes.Unavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opt := grpcauth.RequireFor(introspection.RequireAnyRole("reader"), healthService)
			reached := 0
			_, err := grpcauth.UnaryServerInterceptor(tt.in, opt)(tt.ctx, nil, &grpc.UnaryServerInfo{FullMethod: healthCheck},
				func(context.Context, any) (any, error) { reached++; return nil, nil })
			assert.Equal(t, tt.code, status.Code(err), "unary: %v", err)
			err = grpcauth.StreamServerInterceptor(tt.in, opt)(nil, &stubStream{ctx: tt.ctx}, &grpc.StreamServerInfo{FullMethod: healthWatch},
				func(any, grpc.ServerStream) error { reached++; return nil })
			assert.Equal(t, tt.code, status.Code(err), "stream: %v", err)
			if tt.code == codes.OK {
				assert.Equal(t, 2, reached)
			} else {
				assert.Zero(t, reached)
			}
		})
	}
}

// stubStream is a server stream with a context and nothing else.
type stubStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *stubStream) Context() context.Context { return s.ctx }

// withRole is the Result of an active token whose user holds role in the
// organization "o1", as ZITADEL answers.
func withRole(t *testing.T, role string) *introspection.Result {
	t.Helper()
	var r introspection.Result
	require.NoError(t, json.Unmarshal([]byte(`{"active":true,"urn:zitadel:iam:org:project:roles":{"`+role+`":{"o1":"one.example"}}}`), &r))
	return &r
}
