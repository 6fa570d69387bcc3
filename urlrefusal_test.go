package serviceuser_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// recorder serves requests in-process with h and keeps a copy of each.
type recorder struct {
	h    http.Handler
	mu   sync.Mutex
	seen []*http.Request
}

func newRecorder(h http.Handler) *recorder { return &recorder{h: h} }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Clone(context.Background()))
	r.mu.Unlock()
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	if req.Body != nil {
		req.Body.Close()
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

func (r *recorder) requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

func (r *recorder) client() *http.Client { return &http.Client{Transport: r} }

// forwarder sends every request to the fake's listener over the network, as
// cluster DNS would, and keeps a copy of each.
func forwarder(srv *serviceusertest.Server) *recorder {
	return newRecorder(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := r.Clone(r.Context())
		out.URL.Host, out.RequestURI = srv.ListenerHost(), ""
		out.URL.Scheme = "http"
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		maps.Copy(w.Header(), resp.Header)
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
}

// fakeKeys returns a service user key and an API application key of a fake
// ZITADEL, for tests that send no request to it.
func fakeKeys(t *testing.T) (user, app *serviceuser.KeyFile) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	user, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
	require.NoError(t, err)
	app, err = serviceuser.ParseKeyFile(srv.NewApplication().KeyFile)
	require.NoError(t, err)
	return user, app
}

// countingTransport counts the requests it is given and answers none of them:
// a refused URL must cost no request.
type countingTransport struct{ n int }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n++
	if r.Body != nil {
		r.Body.Close()
	}
	return nil, errors.New("no network in this test")
}

// TestWrongHostErrorSaysInstanceNotFound: an issuer that is not the instance's
// domain gets ZITADEL's "Instance not found" text and the wrong-host hint,
// from discovery as from the token endpoint.
func TestWrongHostErrorSaysInstanceNotFound(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	_, port, _ := strings.Cut(srv.ListenerHost(), ":")
	srv.SetInstanceDomain("localhost:" + port)
	key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
	require.NoError(t, err)

	byListener := "http://" + srv.ListenerHost()
	for name, tokenURL := range map[string]string{"discovery": "", "token endpoint": byListener + "/oauth/v2/token"} {
		t.Run(name, func(t *testing.T) {
			_, err := serviceuser.Config{Key: key, Issuer: byListener, TokenURL: tokenURL}.Token(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Instance not found")
			assert.Contains(t, err.Error(), "the issuer's host must be the instance's domain exactly")
			assert.Contains(t, err.Error(), "set Address")
		})
	}
}

// TestInsecureURLRefusalsMatchErrInsecureURL: plain http to a host that is not
// loopback is refused wherever the URL comes from, with ErrInsecureURL and
// with the way to opt in, before any request.
func TestInsecureURLRefusalsMatchErrInsecureURL(t *testing.T) {
	key, appKey := fakeKeys(t)
	counter := &countingTransport{}
	hc := &http.Client{Transport: counter}
	configs := map[string]func() error{
		"Config.Issuer":                  serviceuser.Config{Key: key, Issuer: "http://zitadel.example.com", HTTPClient: hc}.Validate,
		"Config.TokenURL":                serviceuser.Config{Key: key, Issuer: "https://zitadel.example.com", TokenURL: "http://zitadel.example.com/oauth/v2/token", HTTPClient: hc}.Validate,
		"ClientCredentialsConfig.Issuer": serviceuser.ClientCredentialsConfig{ClientID: "u", ClientSecret: "s", Issuer: "http://zitadel.example.com", HTTPClient: hc}.Validate,
		"IntrospectionConfig.IntrospectionURL": serviceuser.IntrospectionConfig{Key: appKey, Issuer: "https://zitadel.example.com",
			IntrospectionURL: "http://zitadel.example.com/oauth/v2/introspect", HTTPClient: hc}.Validate,
	}
	for name, validate := range configs {
		t.Run(name, func(t *testing.T) {
			err := validate()
			require.ErrorIs(t, err, serviceuser.ErrInsecureURL)
			var ce *serviceuser.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, name, ce.Config+"."+ce.Field)
			assert.Contains(t, err.Error(), "InsecureAllowPlainHTTP")
		})
	}
	_, err := serviceuser.Config{Key: key, Issuer: "http://zitadel.example.com", HTTPClient: hc}.Token(context.Background())
	assert.ErrorIs(t, err, serviceuser.ErrInsecureURL)
	assert.Zero(t, counter.n, "no request is made for a refused URL")
}

// TestDiscoveredPlainHTTPEndpointMatchesErrInsecureURL: a discovery document
// that names a plain-http token endpoint is refused with ErrInsecureURL.
func TestDiscoveredPlainHTTPEndpointMatchesErrInsecureURL(t *testing.T) {
	issuer := "https://zitadel.example.com"
	doc := fmt.Sprintf(`{"issuer":%q,"token_endpoint":"http://zitadel.example.com/oauth/v2/token"}`, issuer)
	docs := newRecorder(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, doc)
	}))
	key, _ := fakeKeys(t)
	_, err := serviceuser.Config{Key: key, Issuer: issuer, HTTPClient: docs.client()}.Token(context.Background())
	var de *serviceuser.DiscoveryError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, serviceuser.ErrInsecureURL)
	assert.Contains(t, err.Error(), "token_endpoint")
	assert.Contains(t, err.Error(), "InsecureAllowPlainHTTP")
	assert.Len(t, docs.requests(), 1, "only the discovery document was fetched")
}
