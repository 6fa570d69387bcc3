package grpcauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/go-serviceuser/serviceuser/bearer"
)

// Credentials sends a token from Source with each RPC, as the
// "authorization: Bearer <token>" metadata. It implements
// credentials.PerRPCCredentials; pass it with grpc.WithPerRPCCredentials, or
// pass everything it offers with DialOptions. It is safe for concurrent use.
type Credentials struct {
	// Source supplies tokens. Required. When it is a
	// bearer.ContextTokenSource, as *serviceuser.TokenSource is, the
	// RPC's context bounds the wait for a token; otherwise Token is called
	// and may block the RPC beyond its deadline. When it is a
	// bearer.Invalidator, the client interceptors drop a token the
	// server refuses (see UnaryClientInterceptor).
	Source oauth2.TokenSource
	// OrgID, when set, is sent as the x-zitadel-orgid metadata, which makes
	// ZITADEL's APIs act on that organization.
	OrgID string
	// AllowInsecureConnection lets tokens travel over connections without
	// transport security (grpc's insecure credentials, or its local
	// credentials over TCP) to any peer. Anyone on the path can then steal
	// them: use it only where you trust the network, such as to a local
	// sidecar that adds TLS, or in tests. It makes RequireTransportSecurity
	// false; without it, grpc refuses to send these credentials over such a
	// connection, and GetRequestMetadata itself refuses a connection it does
	// not see to be secure unless the peer is loopback or a unix socket. It
	// is unrelated to the configs' InsecureAllowPlainHTTP, which covers the
	// library's own requests to ZITADEL.
	AllowInsecureConnection bool
}

// ErrPlainConnection is the cause of a CredentialsError refusing to send a
// token over a connection without transport security to a host that is not
// loopback.
var ErrPlainConnection = errors.New("grpcauth: refusing to send a token over a connection without transport security")

// CredentialsError says why Credentials sent no token. It carries a gRPC
// status code, so the RPC fails with that code and with this error, which
// unwraps to the cause (ErrPlainConnection, a context error, or the token
// source's error).
type CredentialsError struct {
	// Code is the status code the RPC fails with.
	Code codes.Code
	// Err is the cause.
	Err error
}

// Error returns the cause's message, which never contains a token.
func (e *CredentialsError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *CredentialsError) Unwrap() error { return e.Err }

// GRPCStatus makes the RPC fail with Code.
func (e *CredentialsError) GRPCStatus() *status.Status { return status.New(e.Code, e.Err.Error()) }

// GetRequestMetadata returns the metadata for one RPC: the authorization
// token and, when OrgID is set, x-zitadel-orgid. It refuses (with
// ErrPlainConnection) a connection without transport security to a peer
// that is not loopback, unless AllowInsecureConnection is set. uri holds the
// call's audience, "https://host/service", which names the target when the
// context does not name the peer.
func (c Credentials) GetRequestMetadata(ctx context.Context, uri ...string) (map[string]string, error) {
	if err := c.checkConnection(ctx, uri); err != nil {
		return nil, err
	}
	tok, err := c.token(ctx)
	if err != nil {
		return nil, err
	}
	if a := attemptFrom(ctx); a != nil {
		a.sent.Store(tok)
	}
	md := map[string]string{"authorization": tok.Type() + " " + tok.AccessToken}
	if c.OrgID != "" {
		md[bearer.HeaderOrgID] = c.OrgID
	}
	return md, nil
}

// RequireTransportSecurity is true unless AllowInsecureConnection is set.
func (c Credentials) RequireTransportSecurity() bool { return !c.AllowInsecureConnection }

// token returns a token from Source, waiting no longer than ctx allows when
// the source can be told so.
func (c Credentials) token(ctx context.Context) (*oauth2.Token, error) {
	if c.Source == nil {
		return nil, &CredentialsError{Code: codes.Unauthenticated, Err: errors.New("grpcauth: Credentials.Source is nil")}
	}
	var tok *oauth2.Token
	var err error
	if cts, ok := c.Source.(bearer.ContextTokenSource); ok {
		tok, err = cts.TokenContext(ctx)
	} else {
		tok, err = c.Source.Token()
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, &CredentialsError{Code: status.FromContextError(ctx.Err()).Code(), Err: ctx.Err()}
	case err != nil:
		return nil, &CredentialsError{Code: codes.Unauthenticated, Err: fmt.Errorf("grpcauth: no token: %w", err)}
	case tok == nil || tok.AccessToken == "":
		return nil, &CredentialsError{Code: codes.Unauthenticated, Err: errors.New("grpcauth: the token source returned an empty token")}
	}
	return tok, nil
}

// checkConnection refuses a plain connection to a peer that is not
// loopback, unless plain connections are allowed. It follows grpc's own
// rule for what counts as secure (credentials.CheckSecurityLevel).
func (c Credentials) checkConnection(ctx context.Context, uri []string) error {
	ri, _ := credentials.RequestInfoFromContext(ctx)
	if c.AllowInsecureConnection || credentials.CheckSecurityLevel(ri.AuthInfo, credentials.PrivacyAndIntegrity) == nil {
		return nil
	}
	host, local := remoteHost(ctx, uri)
	if local {
		return nil
	}
	return &CredentialsError{Code: codes.Unauthenticated,
		Err: fmt.Errorf("%w to %q (use TLS, or AllowInsecureConnection for a peer you trust the network to)", ErrPlainConnection, host)}
}

// remoteHost names the other end of the call, from the peer address when
// the context has one, else from the audience, and reports whether it is on
// this machine. Nothing known counts as remote.
func remoteHost(ctx context.Context, uri []string) (string, bool) {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		if p.Addr.Network() == "unix" {
			return p.Addr.String(), true
		}
		host, _, err := net.SplitHostPort(p.Addr.String())
		if err != nil {
			host = p.Addr.String()
		}
		return host, isLoopback(host)
	}
	if len(uri) > 0 {
		if u, err := url.Parse(uri[0]); err == nil && u.Hostname() != "" {
			return u.Hostname(), isLoopback(u.Hostname())
		}
	}
	return "", false
}

// isLoopback is the rule the library applies to URLs (see
// serviceuser.ErrInsecureURL): localhost names and loopback addresses. It is
// written out here because this module may use only the library's exported
// API, which has no use for exporting it.
func isLoopback(host string) bool {
	host = strings.ToLower(host) // host names are case-insensitive
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
