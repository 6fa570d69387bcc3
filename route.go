package serviceuser

import (
	"net/http"

	"github.com/go-serviceuser/serviceuser/internal/route"
)

// Route is how requests reach ZITADEL when they do not go straight to the
// issuer's URL: an internal address, extra headers, plain http. The zero
// Route sends every request to the issuer itself, over https (or http to a
// loopback host). Every config has one (Config.Route and the others, and
// introspection.Config.Route), userinfo.Discover takes one, and Transport
// puts one under requests of your own. It applies to requests to the
// issuer's origin, so it needs an issuer.
type Route struct {
	// Address, when set, is the base URL requests are sent to, such as
	// http://zitadel.zitadel.svc:8080, when it differs from the issuer: a
	// scheme and a host[:port]. Every request to the issuer's origin
	// (discovery, the token endpoint and the endpoints discovery names,
	// which name the issuer's host, introspection, and API requests through
	// a token source's Client) goes there instead, with the
	// x-zitadel-instance-host header set to the issuer's host, by which
	// ZITADEL picks the instance.
	// Requests to other origins are untouched. The issuer stays the
	// assertion's audience and what discovery must name. Plain http to a
	// host that is not loopback needs InsecureAllowPlainHTTP.
	Address string

	// Header holds extra headers for the requests to ZITADEL: discovery,
	// token and introspection requests, and API requests through a token
	// source's Client to the issuer's (or Address's) origin; such as a
	// proxy's headers or ZITADEL's x-zitadel-public-host. A header the
	// request already has is not replaced. Authorization,
	// Proxy-Authorization, Content-Type, Content-Length, Host and
	// x-zitadel-instance-host are refused (set Address for the last two).
	// The values are not treated as secrets (printing a config shows them):
	// a proxy's credentials belong in the HTTP client's transport, whose
	// Proxy URL or ProxyConnectHeader reach the proxy, where a request's
	// header reaches ZITADEL over https.
	Header http.Header

	// InsecureAllowPlainHTTP allows plain http to ZITADEL on hosts that are
	// not loopback: for the issuer, Address, a config's TokenURL or
	// IntrospectionURL and the discovered endpoints, and for the tokens a
	// token source's Client sends to the issuer's and the address's origins
	// (no others). Anyone on the path can then steal the credentials and
	// tokens: use it only inside a network you control, such as a cluster
	// whose service mesh encrypts traffic.
	InsecureAllowPlainHTTP bool
}

// Transport returns base (http.DefaultTransport when nil) behind r, for
// requests of your own to the ZITADEL instance issuer: those to the
// issuer's or Address's origin go to Address, naming the instance by the
// x-zitadel-instance-host header, and carry Header; requests to other
// origins pass untouched. When r changes no request, Transport returns base
// itself.
//
// It checks issuer and r as a config's Validate does, and refuses them with
// a *ConfigError whose Config is "Route" and whose Field is "issuer",
// "Address" or "Header". An empty issuer is accepted with a zero Route.
func (r Route) Transport(issuer string, base http.RoundTripper) (http.RoundTripper, error) {
	parsed, p := route.Parse(issuer, route.Spec(r), true)
	if p != nil {
		return nil, routeError("Route", "issuer", "", p)
	}
	if base == nil {
		base = http.DefaultTransport // returned as is when r changes nothing: never nil
	}
	return parsed.Transport(base), nil
}

// routeError is the *ConfigError of config for a Route refused by
// route.Parse: the Route's fields are named with prefix, the issuer as
// issuerField.
func routeError(config, issuerField, prefix string, p *route.Problem) error {
	return &ConfigError{Config: config, Field: p.Name(issuerField, prefix), Problem: p.Text, Err: p.Err}
}
