package serviceusertest

import (
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const scopeOwner = "urn:zitadel:iam:user:resourceowner"

// ownerClaims picks the resource owner claims out of c.
func ownerClaims(c map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range []string{scopeOwner + ":id", scopeOwner + ":name", scopeOwner + ":primary_domain"} {
		if v, ok := c[k]; ok {
			out[k] = v
		}
	}
	return out
}

// The resourceowner scope adds the user's organization to introspection,
// userinfo and the ID token; without it none of them has it.
func TestZitadelResourceOwnerClaims(t *testing.T) {
	s := newServer(t)
	u, app := s.NewServiceUser(), s.NewApplication()
	issuer, err := url.Parse(s.Issuer())
	require.NoError(t, err)
	host, _, err := net.SplitHostPort(issuer.Host)
	require.NoError(t, err)
	want := map[string]any{
		scopeOwner + ":id":             u.OrgID,
		scopeOwner + ":name":           "ZITADEL",
		scopeOwner + ":primary_domain": "zitadel." + host,
	}
	pat := s.NewPersonalAccessToken(u.UserID, time.Time{})
	org := managementGet(t, s, "/orgs/me", pat, "").json["org"].(map[string]any)
	assert.Equal(t, org["primaryDomain"], want[scopeOwner+":primary_domain"], "the domain the Management API names")

	for scope, wantOwner := range map[string]map[string]any{
		"openid " + scopeOwner + " " + app.AudienceScope(): want,
		"openid " + app.AudienceScope():                    {},
	} {
		r := grantWithScope(t, s, u, time.Now(), scope)
		tok := requireIssued(t, r)
		assert.Equal(t, wantOwner, ownerClaims(introspectOK(t, s, app, time.Now(), tok).json), "introspection, %s", scope)
		assert.Equal(t, wantOwner, ownerClaims(userinfo(t, s, tok).json), "userinfo, %s", scope)
		assert.Equal(t, wantOwner, ownerClaims(verifyJWT(t, s, r.json["id_token"].(string))), "id_token, %s", scope)
	}
}
