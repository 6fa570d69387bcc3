package serviceuser_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/filewatch"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// TestKeyRotationUnderLoad replaces the key file while 50 callers get
// tokens, and deletes the old key on the server right after: no caller sees
// an error, the next token request is signed with the new key, and the
// server refuses nothing.
func TestKeyRotationUnderLoad(t *testing.T) {
	for name, rotate := range rotations {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRotationSetup(t, rotate)
				done := callers(t, r.ts, 50)
				time.Sleep(30 * time.Second)

				newKID, data := newKeyFile(t, r.srv, r.user, nil)
				r.file.replace(t, data)
				r.srv.RevokeKey(r.user.KeyID)
				before := len(r.kids.sent())
				time.Sleep(10 * time.Minute) // two token lifetimes

				assert.Zero(t, done(), "caller errors")
				assert.Empty(t, r.srv.Rejections())
				after := r.kids.sent()[before:]
				require.NotEmpty(t, after, "tokens were refreshed after the rotation")
				for _, kid := range after {
					assert.Equal(t, newKID, kid, "every request after the rotation is signed with the new key")
				}
				assert.NoError(t, r.watcher.Rotation().Err)
				require.NotEmpty(t, r.reloads.seen())
				last := r.reloads.seen()[len(r.reloads.seen())-1]
				assert.Equal(t, newKID, last.KeyID)
				assert.NoError(t, last.Err)
			})
		})
	}
}

// TestBadKeyFileKeepsKey writes files that must not replace a good key
// mid-rotation: the old key stays in use, the refusal is reported by the
// hook and Rotation's Err, and a good file written next is taken.
func TestBadKeyFileKeepsKey(t *testing.T) {
	bad := map[string]struct {
		data func(*testing.T, *serviceusertest.Server, *serviceusertest.ServiceUser) []byte
		is   error
	}{
		"half written": {func(t *testing.T, s *serviceusertest.Server, u *serviceusertest.ServiceUser) []byte {
			return u.KeyFile[:len(u.KeyFile)/2]
		}, serviceuser.ErrInvalidKeyFile},
		"empty": {func(*testing.T, *serviceusertest.Server, *serviceusertest.ServiceUser) []byte { return nil }, serviceuser.ErrInvalidKeyFile},
		"application key": {func(t *testing.T, s *serviceusertest.Server, u *serviceusertest.ServiceUser) []byte {
			return s.NewApplication().KeyFile
		}, serviceuser.ErrInvalidKeyFile},
		"expired key": {func(t *testing.T, s *serviceusertest.Server, u *serviceusertest.ServiceUser) []byte {
			// The bubble's clock starts in 2000.
			_, data := newKeyFile(t, s, u, map[string]string{"expirationDate": "1999-12-31T00:00:00Z"})
			return data
		}, serviceuser.ErrKeyExpired},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRotationSetup(t, rotations["rewrite in place"])
				done := callers(t, r.ts, 50)
				r.file.replace(t, tc.data(t, r.srv, r.user))
				time.Sleep(5 * time.Minute) // past the next refresh

				kids := r.kids.sent()
				assert.Greater(t, len(kids), 1, "refreshed after the bad file was written")
				assert.Equal(t, r.user.KeyID, kids[len(kids)-1], "the old key stays in use")
				err := r.watcher.Rotation().Err
				var ce *serviceuser.CredentialError
				require.ErrorAs(t, err, &ce)
				assert.ErrorIs(t, err, tc.is)
				assert.Equal(t, r.file.path, ce.Path)
				assert.Contains(t, err.Error(), "previous credential stays in use")
				events := r.reloads.seen()
				require.Len(t, events, 1, "reported once")
				assert.Equal(t, err, events[0].Err)
				assert.Equal(t, r.user.KeyID, events[0].KeyID, "the key still in use")

				newKID, data := newKeyFile(t, r.srv, r.user, nil)
				r.file.replace(t, data)
				time.Sleep(5 * time.Minute)
				assert.Zero(t, done(), "caller errors")
				kids = r.kids.sent()
				assert.Equal(t, newKID, kids[len(kids)-1], "a good file is taken")
				assert.NoError(t, r.watcher.Rotation().Err)
			})
		})
	}
}

// TestNewKeyEndsBackoff deletes the key on the server while no token is
// cached: the source backs off; the new key file written then is used by
// the next call within a second, long before the backoff ends.
func TestNewKeyEndsBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRotationSetup(t, rotations["rename into place"])
		r.srv.RevokeKey(r.user.KeyID)
		time.Sleep(5 * time.Minute) // the token expires
		_, err := r.ts.Token()
		require.Error(t, err, "the deleted key is refused")
		backoffEnd := time.Now().Add(5 * time.Second) // the shortest backoff after the quick retries
		_, err = r.ts.Token()
		require.Error(t, err, "in backoff: refused without a request")
		requests := r.srv.TokenRequests()

		newKID, data := newKeyFile(t, r.srv, r.user, nil)
		r.file.replace(t, data)
		time.Sleep(time.Second) // the file is looked at once a second while in backoff
		_, err = r.ts.Token()
		require.NoError(t, err)
		assert.True(t, time.Now().Before(backoffEnd), "the new key ended the backoff")
		assert.Equal(t, requests+1, r.srv.TokenRequests())
		kids := r.kids.sent()
		assert.Equal(t, newKID, kids[len(kids)-1])
	})
}

// TestQuickRetryReadsNewKey deletes the key while a caller waits for a
// token: the quick retry that follows the refusal reads the key file again
// and gets the caller a token with the key written meanwhile.
func TestQuickRetryReadsNewKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRotationSetup(t, rotations["kubernetes ..data swap"])
		r.srv.RevokeKey(r.user.KeyID)
		time.Sleep(5 * time.Minute) // the token expires
		var err error
		got := make(chan struct{})
		go func() { _, err = r.ts.Token(); close(got) }()
		synctest.Wait() // refused; the refresh pauses before a quick retry
		require.Len(t, r.srv.Rejections(), 1)

		newKID, data := newKeyFile(t, r.srv, r.user, nil)
		r.file.replace(t, data)
		<-got
		require.NoError(t, err)
		kids := r.kids.sent()
		assert.Equal(t, newKID, kids[len(kids)-1])
	})
}

// TestNewSourceHearsOnlyLaterReloads makes a token source from a watcher
// that refused a file before: its hooks are not told about that refusal.
func TestNewSourceHearsOnlyLaterReloads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := serviceusertest.NewServer(serviceusertest.InProcess())
		defer srv.Close()
		file := rotations["rewrite in place"](t, t.TempDir(), srv.NewServiceUser().KeyFile)
		kw, err := filewatch.NewKeySource(file.path)
		require.NoError(t, err)
		file.replace(t, []byte("{"))
		_, err = kw.CurrentKey()
		require.NoError(t, err)
		require.Error(t, kw.Rotation().Err)

		rec := &reloads{}
		ts := serviceuser.Config{Key: kw, Issuer: srv.Issuer(), HTTPClient: srv.Client(), Hooks: rec.hooks()}.TokenSource(context.Background())
		defer ts.Close()
		_, err = ts.Token()
		require.NoError(t, err)
		assert.Empty(t, rec.seen())
	})
}

// TestCloseDuringQuickRetryWithRotation closes the source while callers wait
// through a quick-retry pause, as the key file is replaced and a token is
// invalidated: every caller returns, with a token or ErrClosed, Close
// returns, and nothing is left running (the race detector and goleak watch).
func TestCloseDuringQuickRetryWithRotation(t *testing.T) {
	for name, rotate := range rotations {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRotationSetup(t, rotate)
				old, err := r.ts.Token()
				require.NoError(t, err)
				r.srv.RevokeKey(r.user.KeyID)
				time.Sleep(5 * time.Minute) // the token expires
				errs := make(chan error, 4)
				for range cap(errs) {
					go func() { _, err := r.ts.Token(); errs <- err }()
				}
				synctest.Wait() // refused; the refresh pauses before a quick retry
				require.Len(t, r.srv.Rejections(), 1)

				_, data := newKeyFile(t, r.srv, r.user, nil)
				var wg sync.WaitGroup
				wg.Go(func() { r.file.replace(t, data) })
				wg.Go(func() { r.ts.Invalidate(old) })
				wg.Go(func() { r.ts.Close() })
				wg.Wait()
				for range cap(errs) {
					if err := <-errs; err != nil {
						assert.ErrorIs(t, err, serviceuser.ErrClosed)
					}
				}
				if _, err = r.ts.Token(); err != nil { // a refresh that won the race left a token
					assert.ErrorIs(t, err, serviceuser.ErrClosed)
				}
				assert.NoError(t, r.ts.Close(), "idempotent")
			})
		})
	}
}
