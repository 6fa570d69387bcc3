package conformance_test

import (
	"context"
	"fmt"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/conformance"
)

// A token request checked by ZITADEL's own assertion checker: the referee is
// the fake ZITADEL of serviceusertest with zitadel/oidc's verifier in place
// of its checks, and the library's assertion passes it.
func ExampleNewReferee() {
	srv := conformance.NewReferee()
	defer srv.Close()
	key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
	if err != nil {
		panic(err)
	}
	cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer()}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Valid(), srv.IssuedTokens(), len(srv.Rejections()))
	// Output: true 1 0
}
