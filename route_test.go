package serviceuser_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/userinfo"
)

// TestDiscoverByRoute: userinfo.Discover takes a Route, so the in-cluster address
// that a config uses reaches discovery too; the document names the public
// issuer. A route that cannot work is refused before any request.
func TestDiscoverByRoute(t *testing.T) {
	srv, issuer, address := inClusterFake(t)
	sent := passthrough()
	route := serviceuser.Route{Address: address, Header: http.Header{"X-Zitadel-Public-Host": {"auth.example.com"}}}

	ep, err := userinfo.Discover(context.Background(), issuer, route, sent.client())
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(ep.TokenURL, issuer+"/"), ep.TokenURL)
	require.Len(t, sent.requests(), 1)
	r := sent.requests()[0]
	assert.Equal(t, srv.ListenerHost(), r.URL.Host)
	assert.Equal(t, strings.TrimPrefix(issuer, "http://"), r.Header.Get("x-zitadel-instance-host"))
	assert.Equal(t, "auth.example.com", r.Header.Get("X-Zitadel-Public-Host"))

	counter := &countingTransport{}
	_, err = userinfo.Discover(context.Background(), "https://auth.example.com",
		serviceuser.Route{Address: "http://zitadel.zitadel.svc:8080"}, &http.Client{Transport: counter})
	requireInsecureURLRefusal(t, err, ".route.Address")
	assert.Zero(t, counter.n)
}

// TestRouteTransport: Route.Transport puts a route under requests of the
// caller's own: those to the issuer's origin go to the address and name the
// instance, others pass untouched; it refuses what a config refuses, naming
// the field, and gives back base when the route changes nothing.
func TestRouteTransport(t *testing.T) {
	srv, issuer, address := inClusterFake(t)
	sent := passthrough()
	sent.serve("api.example.com", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	rt, err := serviceuser.Route{Address: address, Header: http.Header{"X-A": {"b"}}}.Transport(issuer, sent)
	require.NoError(t, err)
	client := &http.Client{Transport: rt}
	for _, u := range []string{issuer + "/.well-known/openid-configuration", "https://api.example.com/v1"} {
		resp, err := client.Get(u)
		require.NoError(t, err, u)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, u)
	}
	seen := sent.requests()
	require.Len(t, seen, 2)
	assert.Equal(t, srv.ListenerHost(), seen[0].URL.Host)
	assert.Equal(t, strings.TrimPrefix(issuer, "http://"), seen[0].Header.Get("x-zitadel-instance-host"))
	assert.Equal(t, "b", seen[0].Header.Get("X-A"))
	assert.Equal(t, "api.example.com", seen[1].URL.Host)
	assert.Empty(t, seen[1].Header.Get("x-zitadel-instance-host"))
	assert.Empty(t, seen[1].Header.Get("X-A"))

	same, err := serviceuser.Route{}.Transport("", sent)
	require.NoError(t, err)
	assert.Same(t, sent, same.(*recorder), "a route that changes nothing gives back base")

	for _, tc := range []struct {
		issuer string
		route  serviceuser.Route
		field  string
	}{
		{"https://auth.example.com", serviceuser.Route{Address: "http://zitadel.zitadel.svc:8080"}, "Address"},
		{"https://auth.example.com", serviceuser.Route{Header: http.Header{"Authorization": {"x"}}}, "Header"},
		{"", serviceuser.Route{Address: "https://zitadel.internal"}, "issuer"},
		{"http://auth.example.com", serviceuser.Route{}, "issuer"},
	} {
		_, err := tc.route.Transport(tc.issuer, nil)
		var ce *serviceuser.ConfigError
		require.ErrorAs(t, err, &ce, tc.field)
		assert.Equal(t, "Route", ce.Config)
		assert.Equal(t, tc.field, ce.Field)
	}
}

// TestRouteTransportNeverNil: a Route that changes no request with a nil
// base returns http.DefaultTransport, as documented, not a nil RoundTripper
// whose RoundTrip would panic.
func TestRouteTransportNeverNil(t *testing.T) {
	rt, err := serviceuser.Route{}.Transport("", nil)
	require.NoError(t, err)
	assert.Equal(t, http.DefaultTransport, rt)
}
