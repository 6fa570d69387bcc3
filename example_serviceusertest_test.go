package serviceuser_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// orgName stands for code of your own: it asks ZITADEL's Management API which
// organization client acts on.
func orgName(ctx context.Context, client *http.Client, managementURL string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, managementURL+"/orgs/me", nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("management API: %s", resp.Status)
	}
	var body struct{ Org struct{ Name string } }
	err = json.NewDecoder(resp.Body).Decode(&body)
	return body.Org.Name, err
}

// Tests of your own code run it against serviceusertest, a fake ZITADEL that
// hands out key files, answers as ZITADEL does and injects failures. In a
// _test.go file, t.Fatal takes the place of log.Fatal.
func Example_testingYourCode() {
	zitadel := serviceusertest.NewServer()
	defer zitadel.Close()
	key, err := serviceuser.ParseKeyFile(zitadel.NewServiceUser().KeyFile)
	if err != nil {
		log.Fatal(err)
	}
	cfg := serviceuser.Config{
		Key:    key,
		Issuer: zitadel.Issuer(),
		Scopes: []string{"openid", scope.ZitadelAPI},
	}
	ctx := context.Background()

	ts := cfg.TokenSource(ctx)
	defer ts.Close()
	name, err := orgName(ctx, ts.Client(), zitadel.ManagementURL())
	fmt.Println(name, err)

	// Another organization, selected with Config.OrgID.
	cfg.OrgID = zitadel.NewOrganization("ACME")
	name, err = orgName(ctx, cfg.Client(ctx), zitadel.ManagementURL())
	fmt.Println(name, err)

	// An outage: token requests get ZITADEL's 500 Errors.Internal (a single
	// failure would be retried within the wait, so inject several).
	zitadel.FailNext(10, serviceusertest.Fault{})
	failing := cfg.TokenSource(ctx)
	defer failing.Close()
	_, err = orgName(ctx, failing.Client(), zitadel.ManagementURL())
	var te *serviceuser.TokenError
	if errors.As(err, &te) {
		fmt.Println(te.StatusCode, te.Description)
	}
	// Output:
	// ZITADEL <nil>
	// ACME <nil>
	// 500 Errors.Internal
}
