package serviceuser_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// TestUserKeySourceRotation: a key source of the user's own that rotates its
// key gets what a watched key file gets: the rotation is reported by
// CredentialReloaded, and the new key ends the backoff at once.
func TestUserKeySourceRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := serviceusertest.NewServer(serviceusertest.InProcess())
		defer srv.Close()
		srv.SetTokenLifetime(5 * time.Minute)
		user := srv.NewServiceUser()
		key, err := serviceuser.ParseKeyFile(user.KeyFile)
		require.NoError(t, err)
		src := &vaultKey{key: key} // see ExampleRotatingSource
		rec := &reloads{}
		kids := &kidRecorder{base: srv.Transport()}
		ts := serviceuser.Config{Key: src, Issuer: srv.Issuer(), HTTPClient: &http.Client{Transport: kids}, Hooks: rec.hooks()}.TokenSource(context.Background())
		defer ts.Close()
		_, err = ts.Token()
		require.NoError(t, err)

		srv.RevokeKey(user.KeyID)
		time.Sleep(5 * time.Minute) // the token expires
		_, err = ts.Token()
		require.Error(t, err, "the deleted key is refused")
		backoffEnd := time.Now().Add(5 * time.Second) // the shortest backoff after the quick retries
		_, err = ts.Token()
		require.Error(t, err, "in backoff: refused without a request")
		requests := srv.TokenRequests()

		newKID, data := newKeyFile(t, srv, user, nil)
		newKey, err := serviceuser.ParseKeyFile(data)
		require.NoError(t, err)
		src.rotated(newKey)
		_, err = ts.Token()
		require.NoError(t, err, "the new key ended the backoff")
		assert.True(t, time.Now().Before(backoffEnd))
		assert.Equal(t, requests+1, srv.TokenRequests())
		got := kids.sent()
		assert.Equal(t, newKID, got[len(got)-1])
		assert.Equal(t, []hooks.CredentialReloadedInfo{{Path: "vault:kv/zitadel/key", KeyID: newKID}}, rec.seen())
	})
}

// userSecretSource is a secret source of a user's own that reports its
// rotations, including one it refused.
type userSecretSource struct {
	mu       sync.Mutex
	secret   serviceuser.Secret
	rotation serviceuser.Rotation
}

func (s *userSecretSource) CurrentSecret() (serviceuser.Secret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secret, nil
}

func (s *userSecretSource) Rotation() serviceuser.Rotation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rotation
}

func (s *userSecretSource) set(secret serviceuser.Secret, refused error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if refused == nil {
		s.secret = secret
		s.rotation.Changes++
	}
	s.rotation.Err = refused
}

// TestUserSecretSourceReportsRefusals: a source of the user's own that
// refuses a new secret reports it by Rotation's Err: the hook hears of it
// once, with the source's Path, and of the rotation that follows.
func TestUserSecretSourceReportsRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := serviceusertest.NewServer(serviceusertest.InProcess())
		defer srv.Close()
		srv.SetTokenLifetime(5 * time.Minute)
		user, secret := srv.NewServiceUserWithSecret()
		src := &userSecretSource{secret: serviceuser.Secret(secret), rotation: serviceuser.Rotation{Path: "vault:kv/zitadel"}}
		rec := &reloads{}
		ts := serviceuser.ClientCredentialsConfig{ClientID: user.Username, ClientSecret: src, Issuer: srv.Issuer(),
			HTTPClient: srv.Client(), Hooks: rec.hooks()}.TokenSource(context.Background())
		defer ts.Close()
		_, err := ts.Token()
		require.NoError(t, err)

		refused := errors.New("the new version is empty")
		src.set("", refused)
		time.Sleep(5 * time.Minute) // two refreshes
		_, err = ts.Token()
		require.NoError(t, err, "the secret in use stays")
		time.Sleep(5 * time.Minute)
		srv.SetClientSecret(user.Username, "new-secret")
		src.set("new-secret", nil)
		time.Sleep(5 * time.Minute)
		_, err = ts.Token()
		require.NoError(t, err)
		assert.Equal(t, []hooks.CredentialReloadedInfo{
			{Path: "vault:kv/zitadel", Err: refused},
			{Path: "vault:kv/zitadel"},
		}, rec.seen(), "each refusal and rotation once")
		assert.Empty(t, srv.Rejections())
	})
}

// panickingRotation is a key source whose Rotation panics.
type panickingRotation struct{ key *serviceuser.KeyFile }

func (p panickingRotation) CurrentKey() (*serviceuser.KeyFile, error) { return p.key, nil }
func (panickingRotation) Rotation() serviceuser.Rotation              { panic("broken source") }

// TestPanickingRotationIsContained: a RotatingSource whose Rotation panics,
// as code the library does not own may, neither ends the process nor
// leaves the token source locked: it is taken as reporting no rotation.
func TestPanickingRotationIsContained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := serviceusertest.NewServer(serviceusertest.InProcess())
		defer srv.Close()
		srv.SetTokenLifetime(5 * time.Minute)
		user := srv.NewServiceUser()
		key, err := serviceuser.ParseKeyFile(user.KeyFile)
		require.NoError(t, err)
		ts := serviceuser.Config{Key: panickingRotation{key}, Issuer: srv.Issuer(), HTTPClient: srv.Client()}.TokenSource(context.Background())
		defer ts.Close()
		_, err = ts.Token()
		require.NoError(t, err)
		srv.RevokeKey(user.KeyID)
		time.Sleep(5 * time.Minute)
		for range 3 { // refused, then in backoff: each asks Rotation under the source's lock
			_, err = ts.Token()
			require.Error(t, err)
		}
		assert.Error(t, ts.Ready())
	})
}

// TestRotationToNoKey: a source of the user's own that rotates to no key
// gets the config's "missing" error and a reload event, not a panic.
func TestRotationToNoKey(t *testing.T) {
	srv := serviceusertest.NewServer(serviceusertest.InProcess())
	defer srv.Close()
	key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
	require.NoError(t, err)
	src := &vaultKey{key: key}
	rec := &reloads{}
	cfg := serviceuser.Config{Key: src, Issuer: srv.Issuer(), HTTPClient: srv.Client(), Hooks: rec.hooks()}
	ts := cfg.TokenSource(context.Background())
	defer ts.Close()
	src.rotated(nil)
	_, err = ts.Token()
	var ce *serviceuser.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "Key", ce.Field)
	assert.Equal(t, []hooks.CredentialReloadedInfo{{Path: "vault:kv/zitadel/key"}}, rec.seen())
}
