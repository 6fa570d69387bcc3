package grpcauth

import (
	"context"

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
// introspection.BearerToken); the handler then finds the introspection
// result with introspection.FromContext, as an HTTP handler behind
// introspection's Middleware does. A call without such a token fails with
// codes.Unauthenticated; when in cannot tell, it fails with
// codes.Unavailable.
func UnaryServerInterceptor(in Introspector) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := authenticate(ctx, in)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is UnaryServerInterceptor for streams: the
// handler's stream context holds the introspection result.
func StreamServerInterceptor(in Introspector) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := authenticate(ss.Context(), in)
		if err != nil {
			return err
		}
		return handler(srv, &authenticatedStream{ServerStream: ss, ctx: ctx})
	}
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
	errIntrospect   = status.Error(codes.Unavailable, "token introspection failed")
	errNoIntrospect = status.Error(codes.Internal, "grpcauth: no Introspector configured")
)

// authenticate checks the call's bearer token and returns ctx with the result.
func authenticate(ctx context.Context, in Introspector) (context.Context, error) {
	if in == nil {
		return nil, errNoIntrospect
	}
	token, ok := introspection.BearerToken(metadata.ValueFromIncomingContext(ctx, "authorization"))
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
	}
	return introspection.NewContext(ctx, r), nil
}
