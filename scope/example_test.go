package scope_test

import (
	"fmt"

	"github.com/go-serviceuser/serviceuser/scope"
)

// The scopes of a token for the ZITADEL APIs and for the API of your own
// project "285364726718235393", with its role "admin" asserted.
func Example() {
	scopes := []string{"openid", scope.ZitadelAPI, scope.ProjectAudience("285364726718235393"), scope.ProjectRole("admin")}
	for _, s := range scopes {
		fmt.Println(s)
	}
	// Output:
	// openid
	// urn:zitadel:iam:org:project:id:zitadel:aud
	// urn:zitadel:iam:org:project:id:285364726718235393:aud
	// urn:zitadel:iam:org:project:role:admin
}
