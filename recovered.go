package serviceuser

import (
	"context"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser/internal/contain"
)

// fetchRecovered calls fetch, turning a panic (in a user's RoundTripper, say)
// into a *contain.PanicError and a missing token into an error: either would
// otherwise end the process from this background goroutine, where no caller
// can recover it.
func (ts *TokenSource) fetchRecovered(ctx context.Context) (*oauth2.Token, error) {
	tok, err := contain.Call("token request", func() (*oauth2.Token, error) { return ts.fetch(ctx) })
	switch {
	case err != nil:
		return nil, err
	case tok == nil:
		return nil, errNoToken
	}
	return tok, nil
}
