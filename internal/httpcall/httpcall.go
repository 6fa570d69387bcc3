// Package httpcall makes the library's bounded HTTP calls to ZITADEL: each
// has a timeout, follows no redirect and reads at most MaxResponseSize.
package httpcall

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MaxResponseSize bounds every body read from ZITADEL: token and discovery
// responses are a few KiB; anything far larger is hostile or a wrong URL.
const MaxResponseSize = 1 << 20

// DefaultTimeout bounds each request when a config's Timeout is zero.
const DefaultTimeout = 10 * time.Second

// ErrResponseTooLarge reports a body over MaxResponseSize.
var ErrResponseTooLarge = fmt.Errorf("response body larger than %d bytes", MaxResponseSize)

// Caller makes bounded HTTP calls to ZITADEL's endpoints.
type Caller struct {
	Client  *http.Client
	Timeout time.Duration
	owned   *http.Transport // the transport made for this caller; nil when the user gave one
	// AllowPlainHTTP is the config's InsecureAllowPlainHTTP: discovered
	// endpoints may then be plain http to any host.
	AllowPlainHTTP bool
}

// New copies base (nil means a client of its own) so that redirects
// are returned rather than followed: a token endpoint that redirects is
// misconfigured, and following it would re-send the assertion elsewhere.
func New(base *http.Client, timeout time.Duration) *Caller {
	c := &http.Client{Transport: defaultTransport}
	if base != nil {
		copied := *base
		c = &copied
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Caller{Client: c, Timeout: timeout}
}

// NewOwn is New with, when base is nil, a transport of the
// caller's own rather than the shared one, whose connections CloseIdle ends.
func NewOwn(base *http.Client, timeout time.Duration) *Caller {
	if base != nil {
		return New(base, timeout)
	}
	own := defaultTransport.Clone()
	c := New(&http.Client{Transport: own}, timeout)
	c.owned = own
	return c
}

// CloseIdle closes the keep-alive connections of the caller's own transport;
// a transport the user gave is left alone (others may share it).
func (c *Caller) CloseIdle() {
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

// Do sends req within the caller's timeout and returns the response with its
// body read (at most MaxResponseSize) and closed.
func (c *Caller) Do(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	resp, err := c.Client.Do(req.WithContext(ctx))
	if err != nil {
		return nil, nil, err
	}
	body, err := ReadBody(resp)
	return resp, body, err
}

// ReadBody reads at most MaxResponseSize of the body and closes it.
func ReadBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseSize+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if len(body) > MaxResponseSize {
		return nil, ErrResponseTooLarge
	}
	return body, nil
}

// Form is a form to POST, with optional HTTP Basic client authentication.
type Form struct {
	URL    string
	Values url.Values
	// BasicUser and BasicPassword, when set, authenticate the client with
	// HTTP Basic, each part form-URL-encoded as RFC 6749 section 2.3.1 says.
	BasicUser, BasicPassword string
}

// PostForm sends the form and returns the answer, body read.
func (c *Caller) PostForm(ctx context.Context, f Form) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, f.URL, strings.NewReader(f.Values.Encode()))
	if err != nil {
		return nil, nil, fmt.Errorf("bad URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if f.BasicUser != "" {
		req.SetBasicAuth(url.QueryEscape(f.BasicUser), url.QueryEscape(f.BasicPassword))
	}
	return c.Do(ctx, req)
}
