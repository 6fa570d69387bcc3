package serviceuser_test

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/filewatch"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// TestSecretFileRotation rotates a client secret held in a file.
func TestSecretFileRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := serviceusertest.NewServer(serviceusertest.InProcess())
		defer srv.Close()
		srv.SetTokenLifetime(5 * time.Minute)
		user, secret := srv.NewServiceUserWithSecret()
		file := rotations["kubernetes ..data swap"](t, t.TempDir(), []byte(secret+"\n"))
		sw, err := filewatch.NewSecretSource(file.path)
		require.NoError(t, err)
		rec := &reloads{}
		ts := serviceuser.ClientCredentialsConfig{ClientID: user.Username, ClientSecret: sw,
			Issuer: srv.Issuer(), HTTPClient: srv.Client(), Hooks: rec.hooks()}.TokenSource(context.Background())
		defer ts.Close()
		done := callers(t, ts, 50)
		time.Sleep(time.Second)

		file.replace(t, []byte("a bad secret"))
		time.Sleep(5 * time.Minute)
		assert.Error(t, sw.Rotation().Err, "a secret with white space is refused")
		assert.Empty(t, srv.Rejections(), "the old secret stays in use")

		srv.SetClientSecret(user.Username, "new-secret")
		file.replace(t, []byte("new-secret"))
		time.Sleep(10 * time.Minute)
		assert.Zero(t, done(), "caller errors")
		assert.Empty(t, srv.Rejections())
		assert.NoError(t, sw.Rotation().Err)
		assert.Len(t, rec.seen(), 2, "one refusal, one reload")
		assert.Greater(t, srv.IssuedTokens(), 3, "tokens were issued with the new secret")
	})
}

// TestPATFileRotation rotates a personal access token held in a file: the
// source serves the new token within 30 s, and a bad file keeps the old one.
func TestPATFileRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := serviceusertest.NewServer(serviceusertest.InProcess())
		defer srv.Close()
		user := srv.NewServiceUser()
		oldPAT := srv.NewPersonalAccessToken(user.UserID, time.Time{})
		file := rotations["rename into place"](t, t.TempDir(), []byte(oldPAT))
		sw, err := filewatch.NewSecretSource(file.path)
		require.NoError(t, err)
		ts := serviceuser.PATConfig{PAT: sw, HTTPClient: srv.Client()}.TokenSource(context.Background())
		defer ts.Close()
		tok, err := ts.Token()
		require.NoError(t, err)
		require.Equal(t, oldPAT, tok.AccessToken)

		file.replace(t, []byte{})
		time.Sleep(31 * time.Second)
		tok, err = ts.Token()
		require.NoError(t, err)
		assert.Equal(t, oldPAT, tok.AccessToken, "an empty file is refused")
		assert.Error(t, sw.Rotation().Err)

		newPAT := srv.NewPersonalAccessToken(user.UserID, time.Time{})
		file.replace(t, []byte(newPAT+"\n"))
		time.Sleep(31 * time.Second)
		srv.RevokeToken(oldPAT)
		tok, err = ts.Token()
		require.NoError(t, err)
		assert.Equal(t, newPAT, tok.AccessToken)
		resp, err := ts.Client().Get(srv.UserinfoURL())
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
}
