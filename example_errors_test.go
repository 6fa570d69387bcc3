package serviceuser_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"golang.org/x/oauth2"
)

// A refused request comes back as a *TokenError: the endpoint, ZITADEL's
// answer, a hint at the usual cause, and whether retrying can help.
func ExampleTokenError() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	user, _ := zitadel.NewServiceUserWithSecret()

	ts := serviceuser.ClientCredentialsConfig{
		ClientID:     user.Username,
		ClientSecret: serviceuser.Secret("not the secret"),
		Issuer:       zitadel.Issuer(),
	}.TokenSource(context.Background())
	defer ts.Close()

	_, err := ts.Token()
	var te *serviceuser.TokenError
	if errors.As(err, &te) {
		fmt.Println(te.Endpoint, te.StatusCode, te.Code, te.Description)
		fmt.Println("hint:", te.Hint)
		fmt.Println("permanent:", te.Permanent()) // no use retrying until the config changes
	}
	// Code written for golang.org/x/oauth2 keeps working.
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		fmt.Println("oauth2:", re.ErrorCode)
	}
	// A source that keeps serving a valid token while its refresh fails
	// tells of the failure here; monitor it.
	fmt.Println("last error:", errors.As(ts.LastError(), &te))
	// Output:
	// token 400 invalid_request Errors.User.Machine.Secret.Invalid
	// hint: the client secret is wrong for this machine user (ClientID is the login name)
	// permanent: true
	// oauth2: invalid_request
	// last error: true
}
