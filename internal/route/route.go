// Package route is the route to ZITADEL: an issuer and how requests reach
// it (an address, extra headers, the plain-http opt-in), checked and parsed
// once, and the RoundTripper layer that carries it. serviceuser.Route is
// Spec's exported form; the two convert to each other.
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
// host, on every request it sends to a route's Address.
const HeaderInstanceHost = "x-zitadel-instance-host"

// Spec is how requests reach the issuer: the fields of serviceuser.Route.
type Spec struct {
	Address                string
	Header                 http.Header
	InsecureAllowPlainHTTP bool
}

// empty reports a Spec that asks for nothing: requests go straight to the
// issuer, over https or to a loopback host.
func (s Spec) empty() bool {
	return s.Address == "" && len(s.Header) == 0 && !s.InsecureAllowPlainHTTP
}

// Route is an issuer with its Spec, checked and parsed by Parse: what every
// request to ZITADEL takes. The zero Route (no issuer, nothing asked) sends
// requests as they are.
type Route struct {
	issuer         string      // normalized: no trailing slash; "" when none was given
	origin         string      // the issuer's origin (see origin)
	instanceHost   string      // the issuer's host[:port]
	address        *url.URL    // where requests to the issuer go; nil: the issuer itself
	header         http.Header // canonical keys, checked
	allowPlainHTTP bool        // the Spec's InsecureAllowPlainHTTP
}

// Problem is a field that Parse refuses: "Issuer", "Address" or "Header".
type Problem struct {
	Field, Text string
	Err         error // the cause, or nil
}

// Name is the field as a config names it: issuer for "Issuer", and the
// route's fields after prefix (such as "Route.").
func (p *Problem) Name(issuer, prefix string) string {
	if p.Field == "Issuer" {
		return issuer
	}
	return prefix + p.Field
}

// Parse checks issuer and s and returns their route. An empty issuer is
// refused unless optional, and even then when s asks for anything: Address,
// Header and the opt-in all apply to requests to the issuer's origin.
func Parse(issuer string, s Spec, optional bool) (*Route, *Problem) {
	if strings.TrimSpace(issuer) == "" && optional {
		if !s.empty() {
			return nil, &Problem{Field: "Issuer", Text: "missing: Address, Header and InsecureAllowPlainHTTP apply to requests to the issuer's origin"}
		}
		return &Route{}, nil
	}
	iss, err := urlpolicy.NormalizeIssuer(issuer, s.InsecureAllowPlainHTTP)
	if err != nil {
		return nil, &Problem{Field: "Issuer", Text: err.Error(), Err: err}
	}
	u, err := url.Parse(iss)
	if err != nil { // NormalizeIssuer has parsed it
		return nil, &Problem{Field: "Issuer", Text: err.Error(), Err: err}
	}
	r := &Route{issuer: iss, origin: origin(u), instanceHost: u.Host, allowPlainHTTP: s.InsecureAllowPlainHTTP}
	if s.Address != "" {
		a, err := parseAddress(s.Address)
		if err == nil {
			err = urlpolicy.Check(a.String(), s.InsecureAllowPlainHTTP)
		}
		if err != nil {
			return nil, &Problem{Field: "Address", Text: err.Error(), Err: err}
		}
		r.address = a
	}
	if err := checkHeader(s.Header); err != nil {
		return nil, &Problem{Field: "Header", Text: err.Error(), Err: err}
	}
	if len(s.Header) > 0 {
		r.header = http.Header{}
		for _, k := range slices.Sorted(maps.Keys(s.Header)) { // sorted: spellings of one name merge in the same order every time
			name := http.CanonicalHeaderKey(k)
			r.header[name] = append(r.header[name], s.Header[k]...)
		}
	}
	return r, nil
}

// Issuer is the normalized issuer, or "" when none was given.
func (r *Route) Issuer() string { return r.issuer }

// CheckURL checks a URL that will carry a credential (a configured token or
// introspection endpoint) by the URL policy, with the route's opt-in.
func (r *Route) CheckURL(raw string) error { return urlpolicy.Check(raw, r.allowPlainHTTP) }

// Caller returns a caller of its own (see httpcall.NewOwn) over client whose
// every request takes the route: all of them go to ZITADEL.
func (r *Route) Caller(client *http.Client, timeout time.Duration) *httpcall.Caller {
	c := httpcall.NewOwn(client, timeout)
	c.AllowPlainHTTP = r.allowPlainHTTP
	c.Client.Transport = r.layer(c.Client.Transport, true)
	return c
}

// Transport returns base behind the route, for requests of which only those
// to the issuer's (or the address's) origin are ZITADEL's; base itself when
// the route changes no request. nil base means http.DefaultTransport.
func (r *Route) Transport(base http.RoundTripper) http.RoundTripper { return r.layer(base, false) }

func (r *Route) layer(base http.RoundTripper, everyRequest bool) http.RoundTripper {
	if r.address == nil && len(r.header) == 0 {
		return base
	}
	return &transport{route: r, base: base, everyRequest: everyRequest}
}

// AllowsPlainHTTP reports whether the route opted in to plain http and u is
// ZITADEL's (the issuer's or the address's origin). r may be nil.
func (r *Route) AllowsPlainHTTP(u *url.URL) bool {
	if r == nil || !r.allowPlainHTTP {
		return false
	}
	return r.toZitadel(u)
}

// toZitadel reports a URL of the issuer's or the address's origin.
func (r *Route) toZitadel(u *url.URL) bool {
	o := origin(u)
	return (r.origin != "" && o == r.origin) || (r.address != nil && o == origin(r.address))
}

// transport is the RoundTripper layer between the library's requests and
// the HTTP client's transport that carries a route: requests to the issuer's
// origin go to the address instead, naming the instance by
// HeaderInstanceHost, and requests to ZITADEL carry the extra headers.
// Requests to other origins pass untouched, except that the token
// pipeline's (everyRequest) all go to ZITADEL and carry the headers.
type transport struct {
	route        *Route
	base         http.RoundTripper // nil: http.DefaultTransport
	everyRequest bool
}

// RoundTrip sends req by the route. It does not modify req. The response's
// Request is req, not the request rewritten to the address, as a transport
// would report it: the caller judges a redirect (whether the token may
// follow it) against the origin it asked for.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := t.route
	toZitadel := r.toZitadel(req.URL)
	if !toZitadel && !t.everyRequest {
		return t.baseTransport().RoundTrip(req)
	}
	out := req.Clone(req.Context())
	if r.address != nil && toZitadel {
		out.URL.Scheme, out.URL.Host, out.Host = r.address.Scheme, r.address.Host, ""
		out.Header.Set(HeaderInstanceHost, r.instanceHost)
	}
	for k, v := range r.header {
		if _, set := out.Header[k]; !set { // the library's own headers and the caller's win
			out.Header[k] = slices.Clone(v)
		}
	}
	resp, err := t.baseTransport().RoundTrip(out)
	if resp != nil {
		resp.Request = req
	}
	return resp, err
}

func (t *transport) baseTransport() http.RoundTripper {
	if t.base != nil {
		return t.base
	}
	return http.DefaultTransport
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
