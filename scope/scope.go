// Package scope names ZITADEL's reserved scopes, for the Scopes of a
// serviceuser config:
//
//	cfg := serviceuser.Config{
//		Key:    key,
//		Issuer: issuer,
//		Scopes: []string{"openid", scope.ZitadelAPI, scope.ProjectAudience(projectID)},
//	}
//
// A scope is one element of Scopes; white space inside one is refused.
// ZITADEL ignores the scopes it does not know.
package scope

const (
	// ZitadelAPI puts the ZITADEL APIs (Management, Admin, Auth, v2) into
	// the token's audience; calling them requires it.
	ZitadelAPI = "urn:zitadel:iam:org:project:id:zitadel:aud"
	// UserResourceOwner adds the user's organization to the token's claims.
	UserResourceOwner = "urn:zitadel:iam:user:resourceowner"
)

// ProjectAudience is urn:zitadel:iam:org:project:id:{projectID}:aud: it puts
// the project projectID into the token's audience, for calling your own APIs
// that check it: an API's introspection answers {"active":false} for a token
// whose audience lacks its project.
func ProjectAudience(projectID string) string {
	return "urn:zitadel:iam:org:project:id:" + projectID + ":aud"
}

// Organization is urn:zitadel:iam:org:id:{orgID}: it asks for a token of
// the organization orgID.
func Organization(orgID string) string {
	return "urn:zitadel:iam:org:id:" + orgID
}

// ProjectRole is urn:zitadel:iam:org:project:role:{roleKey}: it asks for the
// role roleKey to be asserted in the token.
func ProjectRole(roleKey string) string {
	return "urn:zitadel:iam:org:project:role:" + roleKey
}
