package serviceuser_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// setup starts a fake ZITADEL with one service user of the given key kind;
// the server mints EC keys too, like a generic OpenID provider.
func setup(t *testing.T, kind serviceusertest.KeyKind) (*serviceusertest.Server, *serviceusertest.ServiceUser, serviceuser.Config) {
	t.Helper()
	srv := serviceusertest.NewServer(serviceusertest.WithECKeys())
	t.Cleanup(srv.Close)
	return setupOn(t, srv, kind)
}

// setupOn adds a service user of the given key kind to srv.
func setupOn(t *testing.T, srv *serviceusertest.Server, kind serviceusertest.KeyKind) (*serviceusertest.Server, *serviceusertest.ServiceUser, serviceuser.Config) {
	t.Helper()
	user := srv.NewServiceUserWithKey(kind)
	return srv, user, configFor(t, srv, user)
}

// configFor is the Config of user on srv.
func configFor(t *testing.T, srv *serviceusertest.Server, user *serviceusertest.ServiceUser) serviceuser.Config {
	t.Helper()
	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	require.NoError(t, err)
	return serviceuser.Config{Key: key, Issuer: srv.Issuer(), Scopes: []string{"openid", scope.ZitadelAPI}}
}

func tokenSource(t *testing.T, cfg serviceuser.Config) *serviceuser.TokenSource {
	ts := cfg.TokenSource(context.Background())
	t.Cleanup(func() { ts.Close() })
	return ts
}

// client is a client around a token source of cfg that is closed when the
// test ends.
func client(t *testing.T, cfg interface {
	TokenSource(context.Context) *serviceuser.TokenSource
}) *http.Client {
	ts := cfg.TokenSource(context.Background())
	t.Cleanup(func() { ts.Close() })
	return ts.Client()
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
