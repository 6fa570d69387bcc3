package main

import (
	"flag"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-serviceuser/serviceuser"
)

// The groups of flags that several subcommands share, embedded in their
// options.

// keyFlags are -key and -key-env: a key file, for the subcommands that
// take no other credential.
type keyFlags struct {
	keyPath string
	keyEnv  string
}

func (o *keyFlags) define(fs *flagSet) {
	fs.stringVar(&o.keyPath, "key", "")
	fs.stringVar(&o.keyEnv, "key-env", "")
}

// issuerFlag is -issuer, $ZITADEL_ISSUER when it is not given.
type issuerFlag struct {
	issuer string
}

func (o *issuerFlag) define(fs *flagSet) {
	fs.stringVar(&o.issuer, "issuer", "")
	fs.afterParse(func(*flag.FlagSet) error {
		if o.issuer == "" {
			o.issuer = os.Getenv(envIssuer)
		}
		return nil
	})
}

// requireIssuer reports a missing -issuer.
func (o *issuerFlag) requireIssuer() error {
	if strings.TrimSpace(o.issuer) == "" {
		return usageErrorf("missing -issuer (or $%s)", envIssuer)
	}
	return nil
}

// issuerBase is -issuer without surrounding space and trailing slash.
func (o *issuerFlag) issuerBase() string {
	return strings.TrimSuffix(strings.TrimSpace(o.issuer), "/")
}

// zitadelFlags say where ZITADEL is and how to reach it: -issuer,
// -timeout, -address, -H and the plain http opt-in. watch is the transport
// of every request to ZITADEL.
type zitadelFlags struct {
	issuerFlag
	timeout        time.Duration
	address        string     // -address: where requests to the issuer go
	allowPlainHTTP bool       // -insecure-allow-plain-http
	headers        headerList // -H
	watch          *bodyWatch
}

func newZitadelFlags(x *invocation) zitadelFlags { return zitadelFlags{watch: x.watch} }

func (o *zitadelFlags) define(fs *flagSet) {
	o.issuerFlag.define(fs)
	fs.durationVar(&o.timeout, "timeout", serviceuser.DefaultTimeout)
	fs.stringVar(&o.address, "address", "")
	fs.boolVar(&o.allowPlainHTTP, flagInsecurePlainHTTP)
	fs.valueVar(&o.headers, "H")
	fs.afterParse(o.applyRouteEnv)
}

// applyRouteEnv fills -address and the plain http opt-in from the
// environment when they were not given.
func (o *zitadelFlags) applyRouteEnv(fs *flag.FlagSet) error {
	if o.address == "" {
		o.address = strings.TrimSpace(os.Getenv(envAddress))
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == flagInsecurePlainHTTP })
	v := strings.TrimSpace(os.Getenv(envInsecurePlainHTTP))
	if given || v == "" {
		return nil
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		return usageErrorf("$%s must be 1 (or true) to allow plain http, or 0 (false)", envInsecurePlainHTTP)
	}
	o.allowPlainHTTP = on
	return nil
}

// checkZitadel checks -timeout and the route before any request.
func (o *zitadelFlags) checkZitadel() error {
	if o.timeout <= 0 {
		return usageErrorf("-timeout must be positive")
	}
	return o.checkRoute()
}

// addressBase is -address without surrounding space and trailing slash.
func (o *zitadelFlags) addressBase() string {
	return strings.TrimRight(strings.TrimSpace(o.address), "/")
}

// credentialFlags name the machine user's credential: a key file, a client
// id with its secret, or a personal access token.
type credentialFlags struct {
	keyFlags
	clientID         string
	clientSecretFile string
	patFile          string
}

func (o *credentialFlags) define(fs *flagSet) {
	o.keyFlags.define(fs)
	fs.stringVar(&o.clientID, "client-id", "")
	fs.stringVar(&o.clientSecretFile, "client-secret-file", "")
	fs.stringVar(&o.patFile, "pat-file", "")
}

// tokenFlags are the flags of the subcommands that get a token: the
// credential, where ZITADEL is, the scopes and the token endpoint.
type tokenFlags struct {
	credentialFlags
	zitadelFlags
	scopes        scopeList
	tokenURL      string
	defaultScopes []string // requested when -scope is not given; nil means the library's default
}

func newTokenFlags(x *invocation, defaultScopes []string) tokenFlags {
	return tokenFlags{zitadelFlags: newZitadelFlags(x), defaultScopes: defaultScopes}
}

func (o *tokenFlags) define(fs *flagSet) {
	o.credentialFlags.define(fs)
	o.zitadelFlags.define(fs)
	fs.valueVar(&o.scopes, "scope")
	fs.Lookup("scope").DefValue = strings.Join(o.scopeValues(), " ")
	fs.stringVar(&o.tokenURL, "token-url", "")
}

// scopeValues returns the scopes to request: the subcommand's default
// scopes unless some were given.
func (o *tokenFlags) scopeValues() []string {
	switch {
	case len(o.scopes) > 0:
		return o.scopes
	case o.defaultScopes != nil:
		return slices.Clone(o.defaultScopes)
	}
	return serviceuser.DefaultScopes()
}
