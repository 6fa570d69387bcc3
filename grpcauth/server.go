package grpcauth

import (
	"context"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/go-serviceuser/serviceuser/introspection"
)

// Introspector checks an access token at ZITADEL's introspection endpoint,
// as *introspection.Introspector does. An inactive token is an answer, not an
// error; an error means the endpoint could not tell. Wrap it to log such
// errors: the server interceptors do not pass their text to callers.
type Introspector interface {
	Introspect(ctx context.Context, token string) (*introspection.Result, error)
}

// UnaryServerInterceptor returns an interceptor that lets a call through
// only if its "authorization: Bearer <token>" metadata holds a token that in
// reports active (several authorization values count as none, see
// introspection.BearerToken) and that meets what opts require of the
// call's method (RequireFor, PublicMethods); the handler then finds the
// introspection result with introspection.FromContext, as an HTTP handler
// behind introspection's Middleware does. A call without such a token fails
// with codes.Unauthenticated, one whose token is active but lacks a
// required role with codes.PermissionDenied; when in cannot tell, it fails
// with codes.Unavailable. With a malformed method name in opts every call
// fails with codes.Internal, naming it.
func UnaryServerInterceptor(in Introspector, opts ...ServerOption) grpc.UnaryServerInterceptor {
	m := newMethods(opts)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := m.authenticate(ctx, in, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is UnaryServerInterceptor for streams: the
// handler's stream context holds the introspection result.
func StreamServerInterceptor(in Introspector, opts ...ServerOption) grpc.StreamServerInterceptor {
	m := newMethods(opts)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := m.authenticate(ss.Context(), in, info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &authenticatedStream{ServerStream: ss, ctx: ctx})
	}
}

// ServerOption says what the server interceptors ask of the calls of some
// methods; a method that no option names needs an active token only. A
// method is named in full, "/package.Service/Method" (grpc.UnaryServerInfo's
// FullMethod), or with its service, "/package.Service/", for each method of
// the service; an option naming the method wins over one naming its
// service, and a later option for the same name over an earlier one.
type ServerOption struct {
	methods []string
	rule    rule
}

// rule is what a method's calls need.
type rule struct {
	public  bool                      // a call without a token is let through
	require introspection.Requirement // what a token must meet
}

// RequireFor makes the calls of methods need a token that meets q, such as
// introspection.RequireAnyRole("admin"); an active token that does not gets
// codes.PermissionDenied.
func RequireFor(q introspection.Requirement, methods ...string) ServerOption {
	return ServerOption{methods: slices.Clone(methods), rule: rule{require: q}}
}

// PublicMethods lets calls of methods through without a token; their
// handlers then find no result with introspection.FromContext. A call that
// sends authorization metadata is checked as for any method, so an
// inactive token fails with codes.Unauthenticated rather than being served
// as if it had sent none: its caller learns that its token no longer works.
func PublicMethods(methods ...string) ServerOption {
	return ServerOption{methods: slices.Clone(methods), rule: rule{public: true}}
}

// methods is what each method needs, by full method name or service prefix.
type methods struct {
	rules map[string]rule
	err   error // a malformed name in the options
}

func newMethods(opts []ServerOption) *methods {
	m := &methods{rules: map[string]rule{}}
	for _, o := range opts {
		for _, name := range o.methods {
			if !validMethodName(name) {
				m.err = status.Errorf(codes.Internal, "grpcauth: method name %q is neither /package.Service/Method nor /package.Service/", name)
				return m
			}
			m.rules[name] = o.rule
		}
	}
	return m
}

// validMethodName reports whether name is "/service/method" or "/service/".
func validMethodName(name string) bool {
	service, method, ok := strings.Cut(strings.TrimPrefix(name, "/"), "/")
	return ok && strings.HasPrefix(name, "/") && service != "" && !strings.Contains(method, "/")
}

// rule returns what calls of fullMethod need: its own rule, its service's,
// or an active token.
func (m *methods) rule(fullMethod string) rule {
	if r, ok := m.rules[fullMethod]; ok {
		return r
	}
	if i := strings.LastIndexByte(fullMethod, '/'); i > 0 {
		if r, ok := m.rules[fullMethod[:i+1]]; ok {
			return r
		}
	}
	return rule{}
}

// authenticatedStream is a server stream whose context holds the
// introspection result.
type authenticatedStream struct {
	grpc.ServerStream
	ctx context.Context
}

// Context returns the stream's context with the introspection result.
func (s *authenticatedStream) Context() context.Context { return s.ctx }

// Answers to callers. They never contain the token or why introspection failed.
var (
	errNoToken      = status.Error(codes.Unauthenticated, "a bearer token is required")
	errInactive     = status.Error(codes.Unauthenticated, "the token is not active")
	errNoRole       = status.Error(codes.PermissionDenied, "the token lacks a role this method requires")
	errIntrospect   = status.Error(codes.Unavailable, "token introspection failed")
	errNoIntrospect = status.Error(codes.Internal, "grpcauth: no Introspector configured")
)

// authenticate checks the call's bearer token against fullMethod's rule and
// returns ctx with the result (ctx itself for a public method's call
// without a token).
func (m *methods) authenticate(ctx context.Context, in Introspector, fullMethod string) (context.Context, error) {
	switch {
	case in == nil:
		return nil, errNoIntrospect
	case m.err != nil:
		return nil, m.err
	}
	rule := m.rule(fullMethod)
	values := metadata.ValueFromIncomingContext(ctx, "authorization")
	if rule.public && len(values) == 0 {
		return ctx, nil
	}
	token, ok := introspection.BearerToken(values)
	if !ok {
		return nil, errNoToken
	}
	r, err := in.Introspect(ctx, token)
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, status.FromContextError(ctx.Err()).Err()
	case err != nil:
		return nil, errIntrospect
	case r == nil || !r.Active:
		return nil, errInactive
	case !rule.require.MetBy(r):
		return nil, errNoRole
	}
	return introspection.NewContext(ctx, r), nil
}
