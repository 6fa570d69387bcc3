package grpcauth

import (
	"context"
	"io"
	"sync/atomic"

	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/go-serviceuser/serviceuser/bearer"
)

// DialOptions returns what a client needs to call with c: c as per-RPC
// credentials, and c's unary and stream interceptors.
func (c Credentials) DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithPerRPCCredentials(c),
		grpc.WithChainUnaryInterceptor(c.UnaryClientInterceptor()),
		grpc.WithChainStreamInterceptor(c.StreamClientInterceptor()),
	}
}

// attempt records the token that c's GetRequestMetadata sent for one try of
// a call, so that the interceptor drops exactly that token when the server
// rejects it. Each try has its own, so concurrent calls never mix tokens up.
type attempt struct {
	sent atomic.Pointer[oauth2.Token]
}

type attemptKey struct{}

func attemptFrom(ctx context.Context) *attempt {
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	return a
}

func withAttempt(ctx context.Context) (context.Context, *attempt) {
	a := &attempt{}
	return context.WithValue(ctx, attemptKey{}, a), a
}

// UnaryClientInterceptor returns an interceptor that, when a call carrying
// c's token fails with codes.Unauthenticated (the token was revoked, or the
// server does not know it yet), drops that token from Source and makes the
// call once more with a new one; if that one is refused too, its token is
// dropped and the error returned. Nothing is retried when Source is not a
// bearer.Invalidator, or when it still offers the rejected token:
// *serviceuser.TokenSource keeps a token fetched less than 10 s ago, so a
// server that refuses every token does not cause a token request per call.
// It works together with c given as per-RPC credentials (see DialOptions).
func (c Credentials) UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		try, a := withAttempt(ctx)
		err := invoker(try, method, req, reply, cc, opts...)
		if !rejected(err) || !c.replace(ctx, a.sent.Swap(nil)) {
			return err
		}
		try, a = withAttempt(ctx)
		err = invoker(try, method, req, reply, cc, opts...)
		c.drop(err, a)
		return err
	}
}

// StreamClientInterceptor returns an interceptor that, when a stream
// carrying c's token fails with codes.Unauthenticated, drops that token from
// Source (see UnaryClientInterceptor). The stream is not opened again: it
// may have sent and received messages already. The next call gets a new
// token.
func (c Credentials) StreamClientInterceptor() grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		try, a := withAttempt(ctx)
		cs, err := streamer(try, desc, cc, method, opts...)
		if err != nil {
			c.drop(err, a)
			return nil, err
		}
		return &watchedStream{ClientStream: cs, creds: c, attempt: a}, nil
	}
}

// rejected reports an answer that blames the call's credentials.
func rejected(err error) bool {
	return status.Code(err) == codes.Unauthenticated
}

// drop invalidates the token a sent, once, if err rejected it.
func (c Credentials) drop(err error, a *attempt) {
	if !rejected(err) {
		return
	}
	if tok := a.sent.Swap(nil); tok != nil {
		if inv, ok := c.Source.(bearer.Invalidator); ok {
			inv.Invalidate(tok)
		}
	}
}

// replace invalidates the rejected token and reports whether Source now
// offers another one. A nil token (none was sent, e.g. GetRequestMetadata
// failed itself) is never replaced.
func (c Credentials) replace(ctx context.Context, tok *oauth2.Token) bool {
	inv, ok := c.Source.(bearer.Invalidator)
	if tok == nil || !ok {
		return false
	}
	inv.Invalidate(tok)
	next, err := c.token(ctx)
	return err == nil && next.AccessToken != tok.AccessToken
}

// watchedStream drops the stream's token when the stream ends with
// codes.Unauthenticated.
type watchedStream struct {
	grpc.ClientStream
	creds   Credentials
	attempt *attempt
}

// Header waits for the server's header; an error is the stream's status.
func (s *watchedStream) Header() (metadata.MD, error) {
	md, err := s.ClientStream.Header()
	if err != nil {
		s.creds.drop(err, s.attempt)
	}
	return md, err
}

// RecvMsg receives a message; an error other than io.EOF is the stream's status.
func (s *watchedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil && err != io.EOF {
		s.creds.drop(err, s.attempt)
	}
	return err
}
