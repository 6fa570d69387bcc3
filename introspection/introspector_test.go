package introspection_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
)

func TestResultAudienceForms(t *testing.T) {
	for body, want := range map[string][]string{
		`{"active":true,"aud":"api"}`:          {"api"},
		`{"active":true,"aud":["a","b"]}`:      {"a", "b"},
		`{"active":true}`:                      nil,
		`{"active":true,"aud":7,"sub":"user"}`: nil,
	} {
		var r introspection.Result
		require.NoError(t, json.Unmarshal([]byte(body), &r), body)
		assert.True(t, r.Active, body)
		assert.Equal(t, want, r.Audience(), body)
	}
	var r introspection.Result
	require.NoError(t, json.Unmarshal([]byte(`{"active":true,"aud":7,"sub":"user"}`), &r))
	assert.Equal(t, "user", r.Subject)
}

// blockingIntrospection is a fake ZITADEL whose introspection endpoint holds
// each request until release is closed (or the request's context ends), then
// answers active.
type blockingIntrospection struct {
	release chan struct{}
	rt      *inProcess
}

func newBlockingIntrospection() *blockingIntrospection {
	b := &blockingIntrospection{release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle(discoveryPath, discoveryHandler(nil))
	mux.HandleFunc("/oauth/v2/introspect", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-b.release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, `{"active":true,"sub":"user-1"}`)
	})
	b.rt = newInProcess(mux)
	return b
}

func (b *blockingIntrospection) requests() int {
	return b.rt.count("zitadel.example/oauth/v2/introspect")
}

func (b *blockingIntrospection) introspector(t *testing.T, timeout time.Duration) *introspection.Introspector {
	t.Helper()
	in, err := introspection.Config{Key: applicationKey(t), Issuer: fakeIssuer, HTTPClient: b.rt.client(), Timeout: timeout}.NewIntrospector(context.Background())
	require.NoError(t, err)
	return in
}

type introspectOutcome struct {
	result *introspection.Result
	err    error
}

// introspectAsync runs Introspect in a goroutine; its outcome arrives on the channel.
func introspectAsync(ctx context.Context, in *introspection.Introspector, token string) <-chan introspectOutcome {
	out := make(chan introspectOutcome, 1)
	go func() {
		r, err := in.Introspect(ctx, token)
		out <- introspectOutcome{r, err}
	}()
	return out
}

func TestIntrospectCallerReleasedByOwnContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBlockingIntrospection()
		in := b.introspector(t, time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		leader := introspectAsync(ctx, in, opaqueToken("token-a"))
		synctest.Wait() // the leader's request is held by the server
		follower := introspectAsync(context.Background(), in, opaqueToken("token-a"))
		synctest.Wait()

		cancel()
		synctest.Wait()
		select {
		case o := <-leader:
			assert.ErrorIs(t, o.err, context.Canceled)
			assert.Nil(t, o.result)
		default:
			t.Error("a cancelled caller still waits for the introspection request")
		}
		close(b.release)
		o := <-follower
		require.NoError(t, o.err)
		assert.True(t, o.result.Active)
		assert.Equal(t, 1, b.requests())
	})
}

func TestIntrospectCancelledContextNeverSucceeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBlockingIntrospection()
		close(b.release)
		in := b.introspector(t, time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for range 20 {
			r, err := in.Introspect(ctx, opaqueToken("token-a"))
			assert.ErrorIs(t, err, context.Canceled)
			assert.Nil(t, r)
		}
		assert.Equal(t, 0, b.requests(), "no request for a caller that is gone")

		_, err := in.Introspect(context.Background(), opaqueToken("token-a"))
		require.NoError(t, err)
		_, err = in.Introspect(ctx, opaqueToken("token-a")) // cached, but the caller is gone
		assert.ErrorIs(t, err, context.Canceled)
	})
}

// TestIntrospectRequestBoundedByTimeout: the request of a caller that left
// ends at the Timeout (the bubble would report a goroutine left blocked), and
// its failure is not kept.
func TestIntrospectRequestBoundedByTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBlockingIntrospection()
		const timeout = 5 * time.Second
		in := b.introspector(t, timeout)
		ctx, cancel := context.WithCancel(context.Background())
		leader := introspectAsync(ctx, in, opaqueToken("token-a"))
		synctest.Wait()
		cancel()
		assert.ErrorIs(t, (<-leader).err, context.Canceled)

		time.Sleep(timeout)
		synctest.Wait() // the abandoned request has ended
		close(b.release)
		r, err := in.Introspect(context.Background(), opaqueToken("token-a"))
		require.NoError(t, err)
		assert.True(t, r.Active)
		assert.Equal(t, 2, b.requests())
	})
}

func TestIntrospectWithoutDiscoveredEndpoint(t *testing.T) {
	rt := newInProcess(discoveryHandler(map[string]any{"introspection_endpoint": nil}))
	in, err := introspection.Config{Key: applicationKey(t), Issuer: fakeIssuer, HTTPClient: rt.client()}.NewIntrospector(context.Background())
	require.NoError(t, err)
	_, err = in.Introspect(context.Background(), opaqueToken("callers-token"))
	var ce *serviceuser.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "IntrospectionURL", ce.Field)
	assert.Equal(t, "introspection.Config", ce.Config)
	assert.NotContains(t, err.Error(), opaqueToken("callers-token"))
}

// TestDiscoveredEndpointsMustBeSecure: neither the assertion nor the caller's
// token ever goes to an endpoint a discovery document names in clear.
func TestDiscoveredEndpointsMustBeSecure(t *testing.T) {
	for _, member := range []string{"token_endpoint", "introspection_endpoint", "userinfo_endpoint"} {
		t.Run(member, func(t *testing.T) {
			rt := newInProcess(discoveryHandler(map[string]any{member: "http://example.com/leak"}))
			in, err := introspection.Config{Key: applicationKey(t), Issuer: fakeIssuer, HTTPClient: rt.client()}.NewIntrospector(context.Background())
			require.NoError(t, err)
			_, err = in.Introspect(context.Background(), opaqueToken("callers-token"))
			var de *serviceuser.DiscoveryError
			require.ErrorAs(t, err, &de)
			assert.ErrorContains(t, err, member)
			assert.ErrorIs(t, err, serviceuser.ErrInsecureURL)
			assert.Zero(t, rt.count("example.com/leak"), "nothing sent in clear")
		})
	}
}
