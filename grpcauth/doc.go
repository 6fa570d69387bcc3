// Package grpcauth carries ZITADEL service-user tokens over gRPC, on both
// sides of a call.
//
// On the client, Credentials is a credentials.PerRPCCredentials made from any
// oauth2.TokenSource, typically a *serviceuser.TokenSource. Unlike grpc's
// oauth.TokenSource it
//   - bounds the wait for a token by the RPC's context, when the source is a
//     bearer.ContextTokenSource (as *serviceuser.TokenSource is), so a cancelled
//     or timed-out RPC returns at once even while the token endpoint hangs;
//   - sends the x-zitadel-orgid header when OrgID is set;
//   - with its interceptors (Credentials.DialOptions), drops a token the
//     server answers codes.Unauthenticated to and sends a unary call once more
//     with a new token.
//
// Tokens travel only over connections with transport security (TLS), unless
// AllowInsecureConnection is set, which is meant for networks you trust (a
// local sidecar, tests).
//
// On the server, UnaryServerInterceptor and StreamServerInterceptor accept
// only calls whose "authorization: Bearer <token>" metadata holds a token
// that ZITADEL's introspection endpoint reports active (see
// introspection.Introspector), and hand the introspection result to the
// handler through the context, where introspection.FromContext finds it, as
// it does behind introspection's HTTP middleware. RequireFor asks a method's
// (or a whole service's) calls for roles, as an introspection.Requirement
// (codes.PermissionDenied when an active token lacks them), and
// PublicMethods lets calls without a token through.
//
// This is a separate module so that grpc never becomes a dependency of
// programs that use the serviceuser library without it.
package grpcauth
