package serviceuser

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/cache"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
	"github.com/go-serviceuser/serviceuser/internal/redact"
	"github.com/go-serviceuser/serviceuser/internal/route"
)

// DefaultTimeout bounds each request to ZITADEL when Config.Timeout is zero:
// 10 seconds.
const DefaultTimeout = httpcall.DefaultTimeout

// settings are what every token config shares: where ZITADEL is, what to
// ask for and how to reach it. config names the config's type in errors.
type settings struct {
	config           string
	issuer, tokenURL string
	scopes           []string
	client           *http.Client
	timeout          time.Duration
	orgID            string
	route            Route
	issuerOptional   bool // PATConfig's: it needs an issuer only for its Route
	hooks            *hookSet
	timing           cache.Timing // RefreshAhead and ExpiryMargin
}

// configError reports a field of the config these settings belong to.
func (s settings) configError(field, problem string) error {
	return &ConfigError{Config: s.config, Field: field, Problem: problem}
}

// fieldError reports a field of the config, refused by err.
func (s settings) fieldError(field string, err error) error {
	return &ConfigError{Config: s.config, Field: field, Problem: err.Error(), Err: err}
}

// check checks the settings and returns their route, parsed once for every
// request the config's token source sends.
func (s settings) check() (*route.Route, error) {
	r, p := route.Parse(s.issuer, route.Spec(s.route), s.issuerOptional)
	if p != nil {
		return nil, routeError(s.config, "Issuer", "Route.", p)
	}
	if s.tokenURL != "" {
		if err := r.CheckURL(s.tokenURL); err != nil {
			return nil, s.fieldError("TokenURL", err)
		}
	}
	if s.timeout < 0 {
		return nil, s.configError("Timeout", "negative")
	}
	if s.timing.Ahead < 0 {
		return nil, s.configError("RefreshAhead", "negative")
	}
	if s.timing.Margin < 0 {
		return nil, s.configError("ExpiryMargin", "negative")
	}
	for _, scope := range s.scopes {
		if scope == "" || strings.ContainsAny(scope, " \t\r\n") {
			return nil, s.configError("Scopes", fmt.Sprintf("scope %q is empty or contains white space; give one scope per element", redact.Truncate(scope, 100)))
		}
	}
	return r, nil
}

// scope is the space-separated scope parameter.
func (s settings) scope() string {
	if len(s.scopes) == 0 {
		return strings.Join(DefaultScopes(), " ")
	}
	return strings.Join(s.scopes, " ")
}

// apiClient takes the HTTP client's transport, as x/oauth2 does: the same
// client sends token requests and, through Client, API requests. Requests to
// ZITADEL take the config's route r (nil for a config that cannot work).
func (s settings) apiClient(client *http.Client, r *route.Route) apiClient {
	api := apiClient{orgID: s.orgID, hooks: s.hooks, zitadel: r}
	if client != nil {
		api.base = client.Transport
	}
	if r != nil {
		api.base = r.Transport(api.base)
	}
	return api
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
