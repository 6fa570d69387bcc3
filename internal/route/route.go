// Package route carries a config's route to ZITADEL (Address, Header,
// InsecureAllowPlainHTTP) as a RoundTripper layer, and checks it.
package route

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/httpcall"
	"github.com/go-serviceuser/serviceuser/internal/redact"
	"github.com/go-serviceuser/serviceuser/internal/urlpolicy"
)

// HeaderInstanceHost names the header by which ZITADEL picks the instance
// when a request reaches it under another host name than the instance's
// domain, as by an in-cluster address. The library sets it, to the issuer's
// host, on every request it sends to a config's Address.
const HeaderInstanceHost = "x-zitadel-instance-host"

// Route is the RoundTripper layer between the library's requests and
// the HTTP client's transport that carries a config's Address and Header:
// requests to the issuer's origin go to the address instead, naming the
// instance by HeaderInstanceHost, and requests to ZITADEL carry the extra
// headers. Requests to other origins pass untouched, except that the token
// pipeline's (everyRequest) all go to ZITADEL and carry the headers.
type Route struct {
	base           http.RoundTripper // nil: http.DefaultTransport
	issuer         string            // the issuer's origin (see origin)
	instanceHost   string            // the issuer's host[:port]
	address        *url.URL          // where requests to the issuer go; nil: the issuer itself
	header         http.Header       // canonical keys, checked by Validate
	everyRequest   bool
	allowPlainHTTP bool // the config's InsecureAllowPlainHTTP, for ZITADEL's origins only
}

// Options are a config's fields that make its route.
type Options struct {
	Issuer, Address string
	Header          http.Header
	AllowPlainHTTP  bool
}

// New returns the route of o over base, or nil when o asks for none. o must
// have passed Validate; others fail before any request, so nil is enough for
// them. everyRequest is true for the token pipeline, whose requests all go
// to ZITADEL.
func New(base http.RoundTripper, o Options, everyRequest bool) *Route {
	if o.Address == "" && len(o.Header) == 0 && !o.AllowPlainHTTP {
		return nil
	}
	iss, err := url.Parse(strings.TrimSpace(o.Issuer))
	if err != nil || iss.Host == "" {
		return nil
	}
	r := &Route{base: base, issuer: origin(iss), instanceHost: iss.Host, everyRequest: everyRequest,
		allowPlainHTTP: o.AllowPlainHTTP, header: http.Header{}}
	for k, v := range o.Header {
		k = http.CanonicalHeaderKey(k)
		r.header[k] = append(r.header[k], v...)
	}
	if o.Address != "" {
		if r.address, err = parseAddress(o.Address); err != nil {
			return nil
		}
	}
	return r
}

// Caller returns a caller of its own (see httpcall.NewOwn) over client whose
// every request takes o's route.
func Caller(client *http.Client, timeout time.Duration, o Options) *httpcall.Caller {
	c := httpcall.NewOwn(client, timeout)
	c.AllowPlainHTTP = o.AllowPlainHTTP
	if r := New(c.Client.Transport, o, true); r != nil {
		c.Client.Transport = r
	}
	return c
}

// RoundTrip sends req by the route. It does not modify req. The response's
// Request is req, not the request rewritten to the address, as a transport
// would report it: the caller judges a redirect (whether the token may
// follow it) against the origin it asked for.
func (r *Route) RoundTrip(req *http.Request) (*http.Response, error) {
	toIssuer := origin(req.URL) == r.issuer
	toAddress := r.address != nil && origin(req.URL) == origin(r.address)
	if !toIssuer && !toAddress && !r.everyRequest {
		return r.baseTransport().RoundTrip(req)
	}
	out := req.Clone(req.Context())
	if r.address != nil && (toIssuer || toAddress) {
		out.URL.Scheme, out.URL.Host, out.Host = r.address.Scheme, r.address.Host, ""
		out.Header.Set(HeaderInstanceHost, r.instanceHost)
	}
	for k, v := range r.header {
		if _, set := out.Header[k]; !set { // the library's own headers and the caller's win
			out.Header[k] = slices.Clone(v)
		}
	}
	resp, err := r.baseTransport().RoundTrip(out)
	if resp != nil {
		resp.Request = req
	}
	return resp, err
}

func (r *Route) baseTransport() http.RoundTripper {
	if r.base != nil {
		return r.base
	}
	return http.DefaultTransport
}

// AllowsPlainHTTP reports whether the config opted in to plain http and u is
// ZITADEL's (the issuer's or the address's origin). r may be nil.
func (r *Route) AllowsPlainHTTP(u *url.URL) bool {
	if r == nil || !r.allowPlainHTTP {
		return false
	}
	return origin(u) == r.issuer || (r.address != nil && origin(u) == origin(r.address))
}

// origin is scheme://host:port, lower case, with the scheme's default port
// written out, so that equal origins compare equal.
func origin(u *url.URL) string {
	scheme, port := strings.ToLower(u.Scheme), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// parseAddress reads an Address: an origin, such as
// http://zitadel.zitadel.svc:8080, with nothing after the host but a slash.
func parseAddress(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(raw), "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%q is not an http or https URL with a host", redact.URL(raw, 100))
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%q must be a scheme and a host[:port] only, such as http://zitadel.zitadel.svc:8080", redact.URL(raw, 100))
	}
	return u, nil
}

// Problem is a field of the config that Validate refuses.
type Problem struct {
	Field, Text string
	Err         error // the cause, or nil
}

// Validate checks Address, Header and InsecureAllowPlainHTTP, which all
// apply to requests to the issuer's origin, so need an issuer.
func Validate(o Options) *Problem {
	if strings.TrimSpace(o.Issuer) == "" && (o.Address != "" || len(o.Header) > 0 || o.AllowPlainHTTP) {
		return &Problem{Field: "Issuer", Text: "missing: Address, Header and InsecureAllowPlainHTTP apply to requests to the issuer's origin"}
	}
	if o.Address != "" {
		u, err := parseAddress(o.Address)
		if err == nil {
			err = urlpolicy.Check(u.String(), o.AllowPlainHTTP)
		}
		if err != nil {
			return &Problem{Field: "Address", Text: err.Error(), Err: err}
		}
	}
	if err := checkHeader(o.Header); err != nil {
		return &Problem{Field: "Header", Text: err.Error(), Err: err}
	}
	return nil
}

// reservedHeaders are set by the library; an extra header may not replace them.
var reservedHeaders = map[string]string{
	"Authorization":       "carries the token the library sends",
	"Proxy-Authorization": "would reach ZITADEL, not the proxy, over https; put a proxy's credentials in the HTTP client's transport (its Proxy URL or ProxyConnectHeader)",
	"Content-Type":        "is set by the library for the requests it makes",
	"Content-Length":      "is set by the library for the requests it makes",
	"Host":                "names the address a request goes to; set Address instead",
	http.CanonicalHeaderKey(HeaderInstanceHost): "is set by the library to the issuer's host when Address is set; set Address instead",
}

// checkHeader refuses extra headers that are reserved or malformed. Its
// errors name the header, never its value, which may be a secret.
func checkHeader(h http.Header) error {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		name := redact.Truncate(k, 100)
		if why, ok := reservedHeaders[http.CanonicalHeaderKey(k)]; ok {
			return fmt.Errorf("header %q %s", name, why)
		}
		if !validHeaderName(k) {
			return fmt.Errorf("%q is not a valid header name", name)
		}
		for _, v := range h[k] {
			if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
				return fmt.Errorf("the value of header %q holds a line break or control character", name)
			}
		}
	}
	return nil
}

// validHeaderName reports an RFC 9110 token.
func validHeaderName(k string) bool {
	return k != "" && !strings.ContainsFunc(k, func(r rune) bool {
		return r > '~' || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	})
}
