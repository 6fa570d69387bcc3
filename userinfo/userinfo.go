// Package userinfo calls ZITADEL's userinfo endpoint with a token, the
// quickest check that a token works, and finds the endpoint by the issuer's
// discovery document.
//
// Token sources and introspectors discover their own endpoints; [Discover]
// is for code of your own that needs them, as [Fetch] does:
//
//	ep, err := userinfo.Discover(ctx, issuer, serviceuser.Route{}, nil)
//	if err != nil {
//		return err
//	}
//	info, err := userinfo.Fetch(ctx, ts.Client(), ep.UserinfoURL)
//
// Errors are the library's: a *serviceuser.TokenError (Endpoint "userinfo")
// for an answer other than 200, a *serviceuser.DiscoveryError for a
// discovery document that cannot be used, a *serviceuser.ConfigError for an
// issuer or a route that cannot work.
package userinfo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/internal/answer"
	"github.com/go-serviceuser/serviceuser/internal/discovery"
	"github.com/go-serviceuser/serviceuser/internal/hint"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
	"github.com/go-serviceuser/serviceuser/internal/route"
)

// Info is the answer of ZITADEL's userinfo endpoint.
type Info struct {
	Subject           string `json:"sub"`
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	Email             string `json:"email"`
	// Claims holds every claim of the answer, including those above.
	Claims map[string]any `json:"-"`
}

// Fetch calls the userinfo endpoint at url (Endpoints.UserinfoURL; on
// current servers {issuer}/oidc/v1/userinfo) with client, which must send a
// token (see serviceuser.Config.Client). An answer other than 200 is a
// *serviceuser.TokenError, without the token that was sent.
func Fetch(ctx context.Context, client *http.Client, url string) (*Info, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("serviceuser: userinfo: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	sent := time.Now().Round(0)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("serviceuser: userinfo: %w", err)
	}
	body, err := httpcall.ReadBody(resp)
	if err != nil {
		return nil, fmt.Errorf("serviceuser: userinfo: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		a := answer.Answer{Endpoint: hint.EndpointUserinfo, Resp: resp, Body: body, Secrets: []string{sentCredential(resp.Request)}, Sent: sent}
		return nil, (*serviceuser.TokenError)(a.Parse())
	}
	var info Info
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("serviceuser: userinfo: answer is not a JSON object")
	}
	if err := json.Unmarshal(body, &info.Claims); err != nil {
		return nil, fmt.Errorf("serviceuser: userinfo: answer is not a JSON object")
	}
	return &info, nil
}

// sentCredential returns the credential of the request's Authorization
// header (the token after "Bearer "), or "".
func sentCredential(req *http.Request) string {
	if req == nil {
		return ""
	}
	_, credential, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	return strings.TrimSpace(credential)
}

// Endpoints are the endpoints an issuer's discovery document names that
// code of your own may need.
type Endpoints struct {
	// TokenURL is the token endpoint, for a config's TokenURL: a config
	// given it skips discovery.
	TokenURL string
	// UserinfoURL is the userinfo endpoint, for Fetch.
	UserinfoURL string
}

// Discover fetches {issuer}/.well-known/openid-configuration by route
// (see serviceuser.Route), with client (nil means a client of the
// library's own, closed afterwards), and checks that it describes issuer
// and names endpoints the route may send credentials to, as a token source
// does. An issuer or route that cannot work is a *serviceuser.ConfigError
// naming "issuer" or the route's field ("route.Address").
func Discover(ctx context.Context, issuer string, r serviceuser.Route, client *http.Client) (*Endpoints, error) {
	parsed, p := route.Parse(issuer, route.Spec(r), false)
	if p != nil {
		return nil, &serviceuser.ConfigError{Field: p.Name("issuer", "route."), Problem: p.Text, Err: p.Err}
	}
	c := parsed.Caller(client, 0)
	defer c.CloseIdle()
	ep, de := discovery.Fetch(ctx, c, parsed.Issuer())
	if de != nil {
		return nil, (*serviceuser.DiscoveryError)(de)
	}
	return &Endpoints{TokenURL: ep.TokenURL, UserinfoURL: ep.UserinfoURL}, nil
}
