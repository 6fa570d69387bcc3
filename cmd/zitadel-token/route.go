package main

import (
	"errors"
	"net/http"
	"strings"

	"github.com/go-serviceuser/serviceuser"
)

// Environment variables of the route to ZITADEL.
const (
	envAddress           = "ZITADEL_ADDRESS"
	envInsecurePlainHTTP = "ZITADEL_INSECURE_ALLOW_PLAIN_HTTP"
)

// flagInsecurePlainHTTP is the opt-in's flag, named loudly on purpose.
const flagInsecurePlainHTTP = "insecure-allow-plain-http"

// headerList is the repeatable -H flag, "Name: value". A malformed value is
// noted rather than refused by Set, whose error the flag package would print
// with the value in it; checkRoute reports it without the value.
type headerList struct {
	header    http.Header
	malformed string // why a value was refused, without the value
}

func (h *headerList) String() string { return "" }

func (h *headerList) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	name = strings.TrimSpace(name)
	switch {
	case !ok:
		h.malformed = "-H takes 'Name: value', with a colon after the header's name"
	case name == "":
		h.malformed = "-H takes 'Name: value'; the name is missing"
	default:
		if h.header == nil {
			h.header = http.Header{}
		}
		h.header[http.CanonicalHeaderKey(name)] = append(h.header[http.CanonicalHeaderKey(name)], strings.TrimSpace(value))
	}
	return nil
}

// checkRoute checks -issuer, -address, -H and the plain http opt-in by the
// library's own rules, before any request: a cached token spares the token
// request whose config would check them, while the tool's own requests
// (discovery, userinfo, api) still go out.
func (o *zitadelFlags) checkRoute() error {
	if o.headers.malformed != "" {
		return usageErrorf("%s", o.headers.malformed)
	}
	_, err := o.zitadelRoute().Transport(o.issuer, nil)
	var ce *serviceuser.ConfigError
	if err == nil || !errors.As(err, &ce) {
		return err
	}
	flagName := map[string]string{"issuer": "-issuer", "Address": "-address", "Header": "-H"}[ce.Field]
	if flagName == "" {
		return err
	}
	if errors.Is(err, serviceuser.ErrInsecureURL) {
		value := map[string]string{"-issuer": o.issuer, "-address": o.address}[flagName]
		return usageErrorf("%s %s uses plain http to a host that is not loopback: credentials and tokens would "+
			"travel unencrypted; use https, or give -%s (or $%s=1) for a network you control",
			flagName, quoteArg(value), flagInsecurePlainHTTP, envInsecurePlainHTTP)
	}
	return usageErrorf("%s: %s", flagName, strings.ReplaceAll(ce.Problem, "set Address", "give -address"))
}

// zitadelRoute is -address, -H and the plain http opt-in as the library's
// configs take them.
func (o *zitadelFlags) zitadelRoute() serviceuser.Route {
	return serviceuser.Route{Address: o.address, Header: o.headers.header, InsecureAllowPlainHTTP: o.allowPlainHTTP}
}

// route returns the transport of the tool's own requests to ZITADEL
// (userinfo, api, doctor's checks): o.watch, behind the library's route
// (-address, -H), so that they go where the library's own requests go.
// checkRoute has accepted the route.
func (o *zitadelFlags) route() http.RoundTripper {
	if rt, err := o.zitadelRoute().Transport(o.issuer, o.watch); err == nil {
		return rt
	}
	return o.watch
}
