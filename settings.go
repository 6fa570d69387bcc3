package serviceuser

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/httpcall"
	"github.com/go-serviceuser/serviceuser/internal/route"
	"github.com/go-serviceuser/serviceuser/internal/urlpolicy"
)

// DefaultTimeout bounds each request to ZITADEL when Config.Timeout is zero:
// 10 seconds.
const DefaultTimeout = httpcall.DefaultTimeout

// HeaderInstanceHost names the header by which ZITADEL picks the instance
// when a request reaches it under another host name than the instance's
// domain, as by an in-cluster address. The library sets it, to the issuer's
// host, on every request it sends to a config's Address. Its value is
// "x-zitadel-instance-host".
const HeaderInstanceHost = route.HeaderInstanceHost

// settings are what every token config shares: where ZITADEL is, what to
// ask for and how to reach it. config names the config's type in errors.
type settings struct {
	config           string
	issuer, tokenURL string
	scopes           []string
	client           *http.Client
	timeout          time.Duration
	orgID            string
	// address, header and allowPlainHTTP are the config's Address, Header
	// and InsecureAllowPlainHTTP (see Config).
	address        string
	header         http.Header
	allowPlainHTTP bool
	hooks          *Hooks
	timing         timing
}

// configError reports a field of the config these settings belong to.
func (s settings) configError(field, problem string) error {
	return &ConfigError{Config: s.config, Field: field, Problem: problem}
}

// fieldError reports a field of the config, refused by err.
func (s settings) fieldError(field string, err error) error {
	return &ConfigError{Config: s.config, Field: field, Problem: err.Error(), Err: err}
}

func (s settings) validate() error {
	if _, err := urlpolicy.NormalizeIssuer(s.issuer, s.allowPlainHTTP); err != nil {
		return s.fieldError("Issuer", err)
	}
	if s.tokenURL != "" {
		if err := urlpolicy.Check(s.tokenURL, s.allowPlainHTTP); err != nil {
			return s.fieldError("TokenURL", err)
		}
	}
	if err := s.validateRoute(); err != nil {
		return err
	}
	if err := s.timing.validate(s); err != nil {
		return err
	}
	for _, scope := range s.scopes {
		if scope == "" || strings.ContainsAny(scope, " \t\r\n") {
			return s.configError("Scopes", fmt.Sprintf("scope %q is empty or contains white space; give one scope per element", truncate(scope, 100)))
		}
	}
	return nil
}

// scope is the space-separated scope parameter.
func (s settings) scope() string {
	if len(s.scopes) == 0 {
		return strings.Join(DefaultScopes, " ")
	}
	return strings.Join(s.scopes, " ")
}

// apiClient is what a token source's Client sends API requests with.
type apiClient struct {
	base     http.RoundTripper // nil: http.DefaultTransport
	orgID    string
	rejected error        // set for tokens that cannot be renewed (see Transport.RejectedError)
	zitadel  *route.Route // the config's route to ZITADEL, or nil; also base when set
	hooks    *Hooks
}

// apiClient takes the HTTP client's transport, as x/oauth2 does: the same
// client sends token requests and, through Client, API requests. Requests to
// ZITADEL take the config's route (Address, Header).
func (s settings) apiClient(client *http.Client) apiClient {
	api := apiClient{orgID: s.orgID, hooks: s.hooks}
	if client != nil {
		api.base = client.Transport
	}
	if r := route.New(api.base, s.routeOptions(), false); r != nil {
		api.base, api.zitadel = r, r
	}
	return api
}

// validateRoute checks Address, Header and InsecureAllowPlainHTTP (see route.Validate).
func (s settings) validateRoute() error {
	if p := route.Validate(s.routeOptions()); p != nil {
		return &ConfigError{Config: s.config, Field: p.Field, Problem: p.Text, Err: p.Err}
	}
	return nil
}

// routeOptions are the settings' route to ZITADEL.
func (s settings) routeOptions() route.Options {
	return route.Options{Issuer: s.issuer, Address: s.address, Header: s.header, AllowPlainHTTP: s.allowPlainHTTP}
}

// httpClient returns the configured client, or the one ctx carries under
// oauth2.HTTPClient, or nil. A nil ctx carries nothing, as in x/oauth2.
func (s settings) httpClient(ctx context.Context) *http.Client {
	if s.client != nil || ctx == nil {
		return s.client
	}
	if c, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok {
		return c
	}
	return nil
}
