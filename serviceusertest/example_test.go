package serviceusertest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// A token source tested on a fake clock. In a test, run all of this inside
// synctest.Test(t, func(t *testing.T) { ... }) from testing/synctest: an
// in-process server has no listener, so it works in the bubble, where
// time.Now is the bubble's clock for the server and the token source alike
// and time.Sleep(11 * time.Hour) takes no time. (An example cannot start a
// bubble, so this one runs on the real clock and sleeps for nothing.)
func ExampleInProcess() {
	srv := serviceusertest.NewServer(serviceusertest.InProcess())
	defer srv.Close()
	key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
	if err != nil {
		panic(err)
	}
	cfg := serviceuser.Config{Key: key, Issuer: srv.Issuer(), HTTPClient: srv.Client()}
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()

	tok, err := ts.Token()
	if err != nil {
		panic(err)
	}
	fmt.Println(srv.Issuer(), time.Until(tok.Expiry).Round(time.Hour))
	// In a bubble, time.Sleep(11 * time.Hour) brings the token into its
	// refresh window: ts.Token() still returns it and refreshes in the
	// background; after synctest.Wait(), srv.IssuedTokens() is 2.
	fmt.Println(srv.IssuedTokens(), "token issued")
	// Output:
	// http://127.0.0.1:1 12h0m0s
	// 1 token issued
}
