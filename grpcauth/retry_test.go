package grpcauth_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	grpcauth "github.com/go-serviceuser/serviceuser/grpcauth"
)

func TestUnauthenticatedUnaryDropsTokenAndRetriesOnce(t *testing.T) {
	z := newZitadel(t)
	a := startAPI(t, newIntrospector(t, z), true)
	src := newRenewingSource(t, z)
	conn := a.dial(t, grpcauth.Credentials{Source: src}.DialOptions()...)
	require.NoError(t, check(t.Context(), conn))
	first, err := src.Token()
	require.NoError(t, err)

	z.RevokeToken(first.AccessToken)
	require.NoError(t, check(t.Context(), conn), "retried with a new token")

	assert.Equal(t, 1, src.invalidated())
	assert.Equal(t, 2, z.TokenRequests())
	assert.Equal(t, int32(3), a.calls.Load(), "one call, then one refused and its one retry")
	second, err := src.Token()
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, second.AccessToken)
}

func TestUnauthenticatedUnaryRetriedOnlyOnce(t *testing.T) {
	z := newZitadel(t)
	// The server reports every token inactive.
	a := startAPI(t, refuseAll{}, true)
	src := newRenewingSource(t, z)
	conn := a.dial(t, grpcauth.Credentials{Source: src}.DialOptions()...)

	err := check(t.Context(), conn)

	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	assert.Equal(t, int32(2), a.calls.Load(), "the call and one retry")
	assert.Equal(t, 2, z.TokenRequests())
	assert.Equal(t, 2, src.invalidated(), "both refused tokens dropped")
}

func TestUnauthenticatedWithYoungTokenIsNotRetried(t *testing.T) {
	z := newZitadel(t)
	a := startAPI(t, newIntrospector(t, z), true)
	ts := newSource(t, z)
	conn := a.dial(t, grpcauth.Credentials{Source: ts}.DialOptions()...)
	tok, err := ts.Token()
	require.NoError(t, err)

	z.RevokeToken(tok.AccessToken)
	err = check(t.Context(), conn)

	// *serviceuser.TokenSource keeps a token fetched less than 10 s ago, so
	// there is no other token to retry with.
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	assert.Equal(t, int32(1), a.calls.Load())
	assert.Equal(t, 1, z.TokenRequests())
}

func TestConcurrentRejectedCallsDropTheTokenOnce(t *testing.T) {
	z := newZitadel(t)
	a := startAPI(t, newIntrospector(t, z), true)
	src := newRenewingSource(t, z)
	conn := a.dial(t, grpcauth.Credentials{Source: src}.DialOptions()...)
	first, err := src.Token()
	require.NoError(t, err)
	z.RevokeToken(first.AccessToken)

	const n = 8
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { errs <- check(t.Context(), conn) })
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, 1, src.invalidated(), "compare-and-invalidate: the revoked token is dropped once")
	assert.Equal(t, 2, z.TokenRequests())
	assert.LessOrEqual(t, a.calls.Load(), int32(2*n), "at most one retry per call")
}

func TestUnauthenticatedStreamDropsTokenWithoutRetry(t *testing.T) {
	z := newZitadel(t)
	a := startAPI(t, newIntrospector(t, z), true)
	src := newRenewingSource(t, z)
	conn := a.dial(t, grpcauth.Credentials{Source: src}.DialOptions()...)
	tok, err := src.Token()
	require.NoError(t, err)
	z.RevokeToken(tok.AccessToken)

	err = watch(t.Context(), conn)

	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	assert.Equal(t, int32(1), a.calls.Load(), "a stream is not opened again")
	assert.Equal(t, 1, src.invalidated())
	require.NoError(t, watch(t.Context(), conn), "the next stream has a new token")
	assert.Equal(t, 2, z.TokenRequests())
}

func TestRefusedCredentialsAreNotRetried(t *testing.T) {
	z := newZitadel(t)
	a := startAPI(t, newIntrospector(t, z), false)
	src := newRenewingSource(t, z)
	creds := grpcauth.Credentials{Source: src}
	// Plain connection, credentials given per call: grpc refuses them with
	// codes.Unauthenticated before any token is sent.
	conn := a.dial(t, grpc.WithChainUnaryInterceptor(creds.UnaryClientInterceptor()))

	err := grpc.Invoke(t.Context(), "/grpc.health.v1.Health/Check", nil, nil, conn, grpc.PerRPCCredentials(creds))

	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	assert.Zero(t, src.invalidated())
	assert.Zero(t, z.TokenRequests())
}
