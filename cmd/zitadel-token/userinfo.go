package main

import (
	"context"
	"io"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/userinfo"
)

// userinfoOptions are the flags of userinfo.
type userinfoOptions struct {
	tokenFlags
	noCache     bool
	userinfoURL string
}

func (o *userinfoOptions) define(fs *flagSet) {
	o.tokenFlags.define(fs)
	fs.boolVar(&o.noCache, "no-cache")
	fs.stringVar(&o.userinfoURL, "userinfo-url", "")
}

// run fetches a token and prints the userinfo endpoint's answer.
func (o *userinfoOptions) run(ctx context.Context, x *invocation, stdout io.Writer) error {
	cred, err := o.loadCredential(x, true)
	if err != nil {
		return err
	}
	infoURL, err := o.userinfoEndpoint(ctx)
	if err != nil {
		return err
	}
	tok, err := o.obtainToken(ctx, cred, o.scopeValues(), o.noCache)
	if err != nil {
		return err
	}
	info, err := userinfo.Fetch(ctx, o.authClient(oauth2.StaticTokenSource(tok), ""), infoURL)
	if err != nil {
		return o.requestFailed(err)
	}
	return writeJSON(stdout, info.Claims)
}

// userinfoEndpoint returns -userinfo-url, or discovers the endpoint (and,
// unless -token-url is given, the token endpoint with it).
func (o *userinfoOptions) userinfoEndpoint(ctx context.Context) (string, error) {
	if o.userinfoURL != "" {
		return o.userinfoURL, nil
	}
	ep, err := userinfo.Discover(ctx, o.issuer, o.zitadelRoute(), &http.Client{Transport: o.watch, Timeout: o.timeout})
	if err != nil {
		return "", o.requestFailed(err)
	}
	if ep.UserinfoURL == "" {
		return "", refused("the discovery document names no userinfo_endpoint; give -userinfo-url")
	}
	if o.tokenURL == "" {
		o.tokenURL = ep.TokenURL
	}
	return ep.UserinfoURL, nil
}
