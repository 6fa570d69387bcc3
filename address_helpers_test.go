package serviceuser_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// recorder keeps a copy of every request that leaves the library, as the
// server sees it, and answers it in-process with h, or with the handler
// registered for its host; with neither, it sends it over the network.
type recorder struct {
	h     http.Handler
	mu    sync.Mutex
	hosts map[string]http.Handler
	seen  []*http.Request
}

func newRecorder(h http.Handler) *recorder { return &recorder{h: h, hosts: map[string]http.Handler{}} }

// passthrough is a recorder that sends requests over the network.
func passthrough() *recorder { return newRecorder(nil) }

// serve answers requests to host with h, in-process.
func (r *recorder) serve(host string, h http.Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts[host] = h
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Clone(context.Background()))
	h := r.hosts[req.URL.Host]
	r.mu.Unlock()
	if h == nil {
		h = r.h
	}
	if h == nil {
		return http.DefaultTransport.RoundTrip(req)
	}
	resp, err := handlerTransport{h}.RoundTrip(req)
	resp.Request = req
	return resp, err
}

// handlerTransport answers in-process with h, without recording the request
// in the response, as many RoundTrippers do.
type handlerTransport struct{ h http.Handler }

func (h handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, r)
	if r.Body != nil {
		r.Body.Close()
	}
	return rec.Result(), nil
}

func (r *recorder) requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

func (r *recorder) client() *http.Client { return &http.Client{Transport: r} }

// countingTransport counts the requests it is given and answers none of them:
// a refused URL must cost no request.
type countingTransport struct {
	mu sync.Mutex
	n  int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	if r.Body != nil {
		r.Body.Close()
	}
	return nil, errors.New("no network in this test")
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

// inClusterFake is a fake ZITADEL whose instance domain is "localhost:PORT"
// while it listens on "127.0.0.1:PORT", as ZITADEL known by its public domain
// and reached by an internal address.
func inClusterFake(t *testing.T) (srv *serviceusertest.Server, issuer, address string) {
	srv = serviceusertest.NewServer()
	t.Cleanup(srv.Close)
	_, port, _ := strings.Cut(srv.ListenerHost(), ":")
	srv.SetInstanceDomain("localhost:" + port)
	return srv, "http://localhost:" + port, "http://" + srv.ListenerHost()
}
