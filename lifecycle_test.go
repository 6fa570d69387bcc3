package serviceuser_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// tokenEndpoint is a token endpoint that reports on closed each connection
// a client closes.
func tokenEndpoint(t *testing.T) (url string, closed <-chan struct{}) {
	t.Helper()
	ch := make(chan struct{}, 10)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at","token_type":"Bearer","expires_in":43199}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateClosed {
			ch <- struct{}{}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

// TestCloseClosesOwnConnections: Close ends the keep-alive connections of the
// transport the library made for the source.
func TestCloseClosesOwnConnections(t *testing.T) {
	_, _, cfg := setup(t, serviceusertest.KeyRSA)
	endpoint, closed := tokenEndpoint(t)
	cfg.TokenURL = endpoint
	ts := cfg.TokenSource(context.Background())
	_, err := ts.Token()
	require.NoError(t, err)
	require.NoError(t, ts.Close())
	select {
	case <-closed:
	case <-time.After(10 * time.Second): // a guard against hanging, not a measure
		t.Fatal("the keep-alive connection is still open after Close")
	}
}

// TestCloseLeavesUserTransport: a transport the user gave is not the
// library's to close; its connection is reused after Close.
func TestCloseLeavesUserTransport(t *testing.T) {
	_, _, cfg := setup(t, serviceusertest.KeyRSA)
	endpoint, _ := tokenEndpoint(t)
	own := &http.Transport{}
	defer own.CloseIdleConnections()
	cfg.TokenURL, cfg.HTTPClient = endpoint, &http.Client{Transport: own}
	ts := cfg.TokenSource(context.Background())
	_, err := ts.Token()
	require.NoError(t, err)
	require.NoError(t, ts.Close())

	var reused bool
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, endpoint, nil)
	require.NoError(t, err)
	resp, err := own.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.True(t, reused, "the user's connection was closed")
}

// TestNilContextMeansBackground: as in x/oauth2, a nil ctx is taken for
// context.Background() by both configs' TokenSource and Client.
func TestNilContextMeansBackground(t *testing.T) {
	srv, _, cfg := setup(t, serviceusertest.KeyRSA)
	user, secret := srv.NewServiceUserWithSecret()
	cc := serviceuser.ClientCredentialsConfig{ClientID: user.Username, ClientSecret: serviceuser.Secret(secret),
		Issuer: srv.Issuer(), Scopes: []string{"openid"}}
	for name, c := range map[string]interface {
		TokenSource(context.Context) *serviceuser.TokenSource
		Client(context.Context) *http.Client
	}{"Config": cfg, "ClientCredentialsConfig": cc} {
		t.Run(name, func(t *testing.T) {
			var nilCtx context.Context
			ts := c.TokenSource(nilCtx)
			defer ts.Close()
			_, err := ts.Token()
			require.NoError(t, err)
			userinfoClaims(t, c.Client(nilCtx), srv.UserinfoURL())
		})
	}
}
