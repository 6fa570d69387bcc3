package serviceuser

// ZITADEL's reserved scopes. A scope is one element of Config.Scopes; white
// space inside one is refused.
const (
	// ScopeZitadelAPI puts the ZITADEL APIs (Management, Admin, Auth, v2) into
	// the token's audience; calling them requires it.
	ScopeZitadelAPI = "urn:zitadel:iam:org:project:id:zitadel:aud"
	// ScopeUserResourceOwner adds the user's organization to the token's claims.
	ScopeUserResourceOwner = "urn:zitadel:iam:user:resourceowner"
)

// DefaultScopes returns the scopes requested when a config's Scopes is
// empty ("openid": ZITADEL requires at least one), in a new slice each time.
func DefaultScopes() []string { return []string{"openid"} }

// ScopeProjectAudience puts the project projectID into the token's audience,
// for calling your own APIs that check it.
func ScopeProjectAudience(projectID string) string {
	return "urn:zitadel:iam:org:project:id:" + projectID + ":aud"
}

// ScopeOrganization asks for a token of the organization orgID.
func ScopeOrganization(orgID string) string {
	return "urn:zitadel:iam:org:id:" + orgID
}

// ScopeProjectRole asks for the role roleKey to be asserted in the token.
func ScopeProjectRole(roleKey string) string {
	return "urn:zitadel:iam:org:project:role:" + roleKey
}
