package serviceuser

import (
	"net/http"

	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/internal/bearer"
)

// Client returns an *http.Client that sends this source's tokens with every
// request, as a bearer.Transport does (of package
// github.com/go-serviceuser/serviceuser/bearer), over the transport of the
// HTTP client of the config that made the source, with its OrgID, and by its
// Route for requests to the issuer's origin, whose InsecureAllowPlainHTTP
// lets tokens go there over plain http. A 401 for a personal access token
// (PATConfig) is ErrPATRejected. Clients made this way share the source's
// cache; closing the source is up to its owner.
func (ts *TokenSource) Client() *http.Client {
	return &http.Client{Transport: &bearer.Transport{Source: ts, Base: ts.api.base, OrgID: ts.api.orgID,
		RejectedError: ts.api.rejected, Hooks: (*hooks.Hooks)(ts.api.hooks), Zitadel: ts.api.zitadel}}
}
