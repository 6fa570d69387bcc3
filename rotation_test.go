package serviceuser_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/filewatch"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// rotationKey is a second RSA key, made once: generation is slow.
var rotationKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// newKeyFile registers a new key for user on srv and returns its id and the
// key file ZITADEL would hand out for it, with the fields in extra changed.
func newKeyFile(t *testing.T, srv *serviceusertest.Server, user *serviceusertest.ServiceUser, extra map[string]string) (string, []byte) {
	t.Helper()
	key := rotationKey()
	kid := srv.AddKey(user.UserID, &key.PublicKey)
	fields := map[string]string{"type": "serviceaccount", "keyId": kid, "userId": user.UserID,
		"expirationDate": "9999-12-31T23:59:59Z",
		"key":            string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))}
	for k, v := range extra {
		fields[k] = v
	}
	data, err := json.Marshal(fields)
	require.NoError(t, err)
	return kid, data
}

// mount is a credential file and the way a tool replaces it.
type mount struct {
	path    string
	replace func(t *testing.T, data []byte)
}

// rotations are the ways credential files are replaced: a Kubernetes Secret
// volume (a "..data" symlink swapped to a new directory), a new file renamed
// into place, and the file rewritten in place.
var rotations = map[string]func(t *testing.T, dir string, data []byte) mount{
	"kubernetes ..data swap": func(t *testing.T, dir string, data []byte) mount {
		generation := 0
		write := func(t *testing.T, data []byte) {
			generation++
			gen := filepath.Join(dir, "..gen"+string(rune('0'+generation)))
			require.NoError(t, os.Mkdir(gen, 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(gen, "credential"), data, 0o600))
			require.NoError(t, os.Symlink(filepath.Base(gen), filepath.Join(dir, "..data_tmp")))
			require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
		}
		write(t, data)
		require.NoError(t, os.Symlink(filepath.Join("..data", "credential"), filepath.Join(dir, "credential")))
		return mount{path: filepath.Join(dir, "credential"), replace: write}
	},
	"rename into place": func(t *testing.T, dir string, data []byte) mount {
		path := filepath.Join(dir, "credential")
		write := func(t *testing.T, data []byte) {
			require.NoError(t, os.WriteFile(path+".tmp", data, 0o600))
			require.NoError(t, os.Rename(path+".tmp", path))
		}
		write(t, data)
		return mount{path: path, replace: write}
	},
	"rewrite in place": func(t *testing.T, dir string, data []byte) mount {
		path := filepath.Join(dir, "credential")
		write := func(t *testing.T, data []byte) { require.NoError(t, os.WriteFile(path, data, 0o600)) }
		write(t, data)
		return mount{path: path, replace: write}
	},
}

// kidRecorder records the "kid" of every assertion sent to the token endpoint.
type kidRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	kids []string
}

func (k *kidRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if a := form.Get("assertion"); a != "" {
			k.mu.Lock()
			k.kids = append(k.kids, assertionKID(a))
			k.mu.Unlock()
		}
	}
	return k.base.RoundTrip(r)
}

func (k *kidRecorder) sent() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.kids...)
}

// assertionKID decodes the "kid" of a compact JWS's header.
func assertionKID(jws string) string {
	header, _, _ := strings.Cut(jws, ".")
	raw, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return "undecodable"
	}
	var h struct {
		KID string `json:"kid"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return "undecodable"
	}
	return h.KID
}

// reloads records CredentialReloaded events.
type reloads struct {
	mu     sync.Mutex
	events []hooks.CredentialReloadedInfo
}

func (r *reloads) hooks() *hooks.Hooks {
	return &hooks.Hooks{CredentialReloaded: func(_ context.Context, i hooks.CredentialReloadedInfo) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, i)
	}}
}

func (r *reloads) seen() []hooks.CredentialReloadedInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hooks.CredentialReloadedInfo(nil), r.events...)
}

// rotationSetup is a token source for a service user whose key file is
// mounted as m, in a synctest bubble, on the fake's 5-minute tokens.
type rotationSetup struct {
	srv     *serviceusertest.Server
	user    *serviceusertest.ServiceUser
	watcher *filewatch.KeySource
	ts      *serviceuser.TokenSource
	kids    *kidRecorder
	reloads *reloads
	file    mount
}

func newRotationSetup(t *testing.T, rotate func(*testing.T, string, []byte) mount) *rotationSetup {
	t.Helper()
	r := &rotationSetup{srv: serviceusertest.NewServer(serviceusertest.InProcess()), reloads: &reloads{}}
	t.Cleanup(r.srv.Close)
	r.srv.SetTokenLifetime(5 * time.Minute)
	r.user = r.srv.NewServiceUser()
	r.file = rotate(t, t.TempDir(), r.user.KeyFile)
	var err error
	r.watcher, err = filewatch.NewKeySource(r.file.path)
	require.NoError(t, err)
	r.kids = &kidRecorder{base: r.srv.Transport()}
	cfg := serviceuser.Config{Key: r.watcher, Issuer: r.srv.Issuer(), HTTPClient: &http.Client{Transport: r.kids}, Hooks: r.reloads.hooks()}
	r.ts = cfg.TokenSource(context.Background())
	t.Cleanup(func() { r.ts.Close() })
	_, err = r.ts.Token()
	require.NoError(t, err)
	return r
}

// callers runs n callers that each get a token every second, and returns a
// func that stops them and returns how many errors they got. They also stop
// when the test ends.
func callers(t *testing.T, ts *serviceuser.TokenSource, n int) func() int64 {
	var errs atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range n {
		wg.Go(func() {
			for {
				if _, err := ts.Token(); err != nil {
					errs.Add(1)
				}
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
				}
			}
		})
	}
	var once sync.Once
	done := func() int64 { once.Do(func() { close(stop) }); wg.Wait(); return errs.Load() }
	t.Cleanup(func() { done() })
	return done
}

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
