package serviceuser

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// maxResponseSize bounds every body read from ZITADEL: token and discovery
// responses are a few KiB; anything far larger is hostile or a wrong URL.
const maxResponseSize = 1 << 20

// DefaultTimeout bounds each request to ZITADEL when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// errResponseTooLarge reports a body over maxResponseSize.
var errResponseTooLarge = fmt.Errorf("response body larger than %d bytes", maxResponseSize)

// caller makes bounded HTTP calls to ZITADEL's endpoints.
type caller struct {
	client  *http.Client
	timeout time.Duration
	owned   *http.Transport // the transport made for this caller; nil when the user gave one
	// allowPlainHTTP is the config's InsecureAllowPlainHTTP: discovered
	// endpoints may then be plain http to any host.
	allowPlainHTTP bool
}

// newCaller copies base (nil means a client of its own) so that redirects
// are returned rather than followed: a token endpoint that redirects is
// misconfigured, and following it would re-send the assertion elsewhere.
func newCaller(base *http.Client, timeout time.Duration) *caller {
	c := &http.Client{Transport: defaultTransport}
	if base != nil {
		copied := *base
		c = &copied
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &caller{client: c, timeout: timeout}
}

// newOwnCaller is newCaller with, when base is nil, a transport of the
// caller's own rather than the shared one, whose connections closeIdle ends.
func newOwnCaller(base *http.Client, timeout time.Duration) *caller {
	if base != nil {
		return newCaller(base, timeout)
	}
	own := defaultTransport.Clone()
	c := newCaller(&http.Client{Transport: own}, timeout)
	c.owned = own
	return c
}

// closeIdle closes the keep-alive connections of the caller's own transport;
// a transport the user gave is left alone (others may share it).
func (c *caller) closeIdle() {
	if c.owned != nil {
		c.owned.CloseIdleConnections()
	}
}

// defaultTransport is private so that other users of http.DefaultTransport
// cannot change how tokens are fetched.
var defaultTransport = copyDefaultTransport()

// copyDefaultTransport clones http.DefaultTransport, or, when another package
// has replaced it with a RoundTripper of its own, makes a transport with the
// same settings as net/http's default.
func copyDefaultTransport() *http.Transport {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// do sends req within the caller's timeout and returns the response with its
// body read (at most maxResponseSize) and closed.
func (c *caller) do(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.client.Do(req.WithContext(ctx))
	if err != nil {
		return nil, nil, err
	}
	body, err := readBody(resp)
	return resp, body, err
}

// readBody reads at most maxResponseSize of the body and closes it.
func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if len(body) > maxResponseSize {
		return nil, errResponseTooLarge
	}
	return body, nil
}
