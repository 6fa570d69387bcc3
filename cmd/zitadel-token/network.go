package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/bearer"
)

// bodyWatch is the transport of every request the tool sends. It notes a
// response whose body could not be read to its end: the library reports such
// an answer with its status code, yet the server's answer never arrived, so
// the exit code must say "no answer" rather than "refused".
type bodyWatch struct {
	base http.RoundTripper
	cut  atomic.Bool
}

func newBodyWatch() *bodyWatch {
	return &bodyWatch{base: http.DefaultTransport.(*http.Transport).Clone()}
}

// RoundTrip sends req and watches the reads of the response body.
func (w *bodyWatch) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.base.RoundTrip(req)
	if err == nil {
		resp.Body = &watchedBody{ReadCloser: resp.Body, w: w}
	}
	return resp, err
}

// client returns an HTTP client that sends through the watch.
func (w *bodyWatch) client() *http.Client { return &http.Client{Transport: w} }

// cutOff reports whether an answer was cut off while its body was read,
// as the connection dropped or timed out.
func (w *bodyWatch) cutOff() bool { return w.cut.Load() }

// close releases the idle connections of the watch's transport.
func (w *bodyWatch) close() {
	if t, ok := w.base.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
}

type watchedBody struct {
	io.ReadCloser
	w *bodyWatch
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.w.cut.Store(true)
	}
	return n, err
}

// authClient sends requests with the source's tokens over the tool's
// transport, by the route of -address and -H, acting on the organization
// orgID (-org) when given; the plain http opt-in covers a -userinfo-url or
// an issuer on plain http.
func (o *zitadelFlags) authClient(ts oauth2.TokenSource, orgID string) *http.Client {
	return &http.Client{Timeout: o.timeout, Transport: &bearer.Transport{
		Source: ts, Base: o.route(), OrgID: orgID, InsecureAllowPlainHTTPAnyHost: o.allowPlainHTTP}}
}

// send sends req with tok over the tool's transport, acting on orgID, and
// reads the answer, which must not be larger than maxAPIAnswer: an answer
// cut short is never taken for the whole.
func (o *zitadelFlags) send(req *http.Request, tok *oauth2.Token, orgID string) (int, []byte, error) {
	resp, err := o.authClient(oauth2.StaticTokenSource(tok), orgID).Do(req)
	if err != nil {
		return 0, nil, classified(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIAnswer+1))
	if err != nil {
		return 0, nil, classified(err)
	}
	if len(body) > maxAPIAnswer {
		return 0, nil, fmt.Errorf("the answer (HTTP %d) is larger than %d MiB, more than the tool reads: not printed",
			resp.StatusCode, maxAPIAnswer>>20)
	}
	return resp.StatusCode, body, nil
}
