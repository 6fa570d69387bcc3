package serviceuser_test

import (
	"context"
	"crypto"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// slowness is how long the slow signers and sources below take: far past
// the callers' deadline.
const slowness = 3 * time.Second

// slowSigner is a KMS signer that takes slowness to sign, ignoring any
// context, as crypto.Signer has none.
type slowSigner struct{ key crypto.Signer }

func (s slowSigner) Public() crypto.PublicKey { return s.key.Public() }

func (s slowSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	time.Sleep(slowness)
	return s.key.Sign(r, digest, opts)
}

// slowKey is a KeySource that takes slowness to answer.
type slowKey struct{ key *serviceuser.KeyFile }

func (s slowKey) CurrentKey() (*serviceuser.KeyFile, error) {
	time.Sleep(slowness)
	return s.key, nil
}

// slowSecret is a SecretSource that takes slowness to answer.
type slowSecret struct{ secret serviceuser.Secret }

func (s slowSecret) CurrentSecret() (serviceuser.Secret, error) {
	time.Sleep(slowness)
	return s.secret, nil
}

// libraryGoroutines counts the goroutines, other than the caller's and the
// test binary's main, that run code of package serviceuser.
func libraryGoroutines() int {
	buf := make([]byte, 1<<20)
	stacks := strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n")
	n := 0
	for _, s := range stacks[1:] { // the caller's goroutine comes first
		if strings.Contains(s, "github.com/go-serviceuser/serviceuser.") && !strings.Contains(s, "serviceuser.TestMain") {
			n++
		}
	}
	return n
}

// TestOneShotTokenReturnsAtDeadline: Token of every config returns ctx's
// error when ctx ends, even while a signer, a key source or a secret source
// that ignores ctx is still working; that work then ends on its own, sends
// no request, and leaves no goroutine behind.
func TestOneShotTokenReturnsAtDeadline(t *testing.T) {
	cases := map[string]func(srv *serviceusertest.Server, hc *http.Client) func(context.Context) (*oauth2.Token, error){
		"Config, slow signer": func(srv *serviceusertest.Server, hc *http.Client) func(context.Context) (*oauth2.Token, error) {
			user := srv.NewServiceUser()
			key, err := serviceuser.NewSignerKey(slowSigner{user.PrivateKey}, serviceuser.KeyFile{KeyID: user.KeyID, UserID: user.UserID})
			require.NoError(t, err)
			return serviceuser.Config{Key: key, Issuer: srv.Issuer(), HTTPClient: hc}.Token
		},
		"Config, slow KeySource": func(srv *serviceusertest.Server, hc *http.Client) func(context.Context) (*oauth2.Token, error) {
			key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
			require.NoError(t, err)
			return serviceuser.Config{Key: slowKey{key}, Issuer: srv.Issuer(), HTTPClient: hc}.Token
		},
		"ClientCredentialsConfig, slow SecretSource": func(srv *serviceusertest.Server, hc *http.Client) func(context.Context) (*oauth2.Token, error) {
			user, secret := srv.NewServiceUserWithSecret()
			return serviceuser.ClientCredentialsConfig{ClientID: user.Username, ClientSecret: slowSecret{serviceuser.Secret(secret)},
				Issuer: srv.Issuer(), HTTPClient: hc}.Token
		},
		"PATConfig, slow SecretSource": func(srv *serviceusertest.Server, hc *http.Client) func(context.Context) (*oauth2.Token, error) {
			pat := srv.NewPersonalAccessToken(srv.NewServiceUser().UserID, time.Time{})
			return serviceuser.PATConfig{PAT: slowSecret{serviceuser.Secret(pat)}}.Token
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := serviceusertest.NewServer(serviceusertest.InProcess())
				defer srv.Close()
				sent := &tokenRequestTimes{next: srv.Transport()} // sends whatever its ctx says
				token := setup(srv, &http.Client{Transport: sent})
				ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
				defer cancel()
				start := time.Now()
				tok, err := token(ctx)
				assert.Nil(t, tok)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Equal(t, 200*time.Millisecond, time.Since(start), "returned at the deadline")

				time.Sleep(slowness) // the slow part ends
				synctest.Wait()
				assert.Zero(t, libraryGoroutines(), "no goroutine left behind")
				assert.Empty(t, sent.list(), "no token request after the deadline")
			})
		})
	}
}

// panicking is a RoundTripper that panics, as a buggy one of the user's may.
type panicking struct{}

func (panicking) RoundTrip(*http.Request) (*http.Response, error) { panic("secret-bearing value") }

// TestOneShotTokenPanicBecomesError: a panic while Token works (here in the
// user's RoundTripper) is returned as an error, without the panic's value,
// as a token source's refresh returns it.
func TestOneShotTokenPanicBecomesError(t *testing.T) {
	key, _ := hostileKeys()
	cfg := serviceuser.Config{Key: key, Issuer: "https://zitadel.example.com", HTTPClient: &http.Client{Transport: panicking{}}}
	var err error
	require.NotPanics(t, func() { _, err = cfg.Token(context.Background()) })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "panicked")
	assert.NotContains(t, err.Error(), "secret-bearing value")
}

// exiting is a RoundTripper that ends its goroutine with runtime.Goexit, as
// t.FailNow in a test's RoundTripper does: no recover stops it.
type exiting struct{}

func (exiting) RoundTrip(*http.Request) (*http.Response, error) {
	runtime.Goexit()
	return nil, nil
}

// TestGoexitInTransportBecomesError: a RoundTripper that ends its goroutine
// with runtime.Goexit leaves neither a one-shot Token nor a token source's
// callers waiting, nor hands them a nil token without an error: they get
// an error at once, and a later call asks again.
func TestGoexitInTransportBecomesError(t *testing.T) {
	key, _ := hostileKeys()
	for name, get := range map[string]func(cfg serviceuser.Config) (*oauth2.Token, error){
		"Token": func(cfg serviceuser.Config) (*oauth2.Token, error) { return cfg.Token(context.Background()) },
		"TokenSource": func(cfg serviceuser.Config) (*oauth2.Token, error) {
			ts := cfg.TokenSource(context.Background())
			defer ts.Close()
			if _, err := ts.Token(); err == nil {
				return nil, nil
			}
			time.Sleep(time.Minute) // past the backoff
			return ts.Token()
		},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := serviceuser.Config{Key: key, Issuer: "https://zitadel.example.com", TokenURL: "https://zitadel.example.com/oauth/v2/token",
					HTTPClient: &http.Client{Transport: exiting{}}}
				start := time.Now()
				tok, err := get(cfg)
				assert.Nil(t, tok)
				require.Error(t, err)
				assert.Contains(t, err.Error(), "runtime.Goexit")
				if name == "Token" {
					assert.Zero(t, time.Since(start), "answered at once")
				}
			})
		})
	}
}
