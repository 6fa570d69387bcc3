package main

import (
	"errors"
	"flag"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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

func defineHeader(fs *flag.FlagSet, o *options, name, usage string) { fs.Var(&o.headers, name, usage) }

// applyRouteEnv fills -address and the plain http opt-in from the
// environment when the subcommand takes them and they were not given.
func (o *options) applyRouteEnv(fs *flag.FlagSet) error {
	if fs.Lookup("address") != nil && o.address == "" {
		o.address, _ = o.env(envAddress)
		o.address = strings.TrimSpace(o.address)
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == flagInsecurePlainHTTP })
	v, _ := o.env(envInsecurePlainHTTP)
	if fs.Lookup(flagInsecurePlainHTTP) == nil || given || strings.TrimSpace(v) == "" {
		return nil
	}
	on, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return usageErrorf("$%s must be 1 (or true) to allow plain http, or 0 (false)", envInsecurePlainHTTP)
	}
	o.allowPlainHTTP = on
	return nil
}

// checkRoute checks -issuer, -address, -H and the plain http opt-in by the
// library's own rules, before any request: a cached token spares the token
// request whose config would check them, while the tool's own requests
// (discovery, userinfo, api) still go out. PATConfig is the config whose
// checks need no credential of a kind, hence the placeholder token.
func (o *options) checkRoute() error {
	if o.headers.malformed != "" {
		return usageErrorf("%s", o.headers.malformed)
	}
	err := serviceuser.PATConfig{PAT: "placeholder", Issuer: o.issuer, Address: o.address,
		Header: o.headers.header, InsecureAllowPlainHTTP: o.allowPlainHTTP}.Validate()
	var ce *serviceuser.ConfigError
	if err == nil || !errors.As(err, &ce) {
		return err
	}
	flagName := map[string]string{"Issuer": "-issuer", "Address": "-address", "Header": "-H"}[ce.Field]
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

// route is the transport of the tool's own requests to ZITADEL (discovery,
// userinfo, api, doctor's checks): what the library's configs do for theirs
// with Address and Header, which it does not export. Requests to the issuer's
// origin go to -address, naming the instance by its header, and requests to
// either origin carry -H's headers, unless they already have them.
type route struct {
	base         http.RoundTripper
	issuer       *url.URL
	address      *url.URL // nil: requests stay on the issuer
	header       http.Header
	instanceHost string
}

// route returns the transport of the tool's own requests: o.watch, behind
// the route when -address or -H is given. checkRoute has accepted them.
func (o *options) route() http.RoundTripper {
	iss, err := url.Parse(o.issuerBase())
	if err != nil || (o.address == "" && len(o.headers.header) == 0) {
		return o.watch
	}
	r := &route{base: o.watch, issuer: iss, header: o.headers.header, instanceHost: iss.Host}
	if o.address != "" {
		if r.address, err = url.Parse(strings.TrimRight(o.address, "/")); err != nil {
			return o.watch
		}
	}
	return r
}

// RoundTrip sends req by the route. It does not modify req.
func (r *route) RoundTrip(req *http.Request) (*http.Response, error) {
	toIssuer := sameOrigin(req.URL, r.issuer)
	if !toIssuer && (r.address == nil || !sameOrigin(req.URL, r.address)) {
		return r.base.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	if r.address != nil && toIssuer {
		out.URL.Scheme, out.URL.Host, out.Host = r.address.Scheme, r.address.Host, ""
		out.Header.Set(serviceuser.HeaderInstanceHost, r.instanceHost)
	}
	for k, v := range r.header {
		if _, set := out.Header[k]; !set {
			out.Header[k] = slices.Clone(v)
		}
	}
	return r.base.RoundTrip(out)
}

// sameOrigin compares scheme and host; ports are written out in the URLs
// the tool builds from -issuer and -address.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}
