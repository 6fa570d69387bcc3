package serviceuser_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/filewatch"
	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/internal/keytest"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// newKeyFile registers a new key for user on srv and returns its id and the
// key file ZITADEL would hand out for it, with the fields in extra changed.
func newKeyFile(t *testing.T, srv *serviceusertest.Server, user *serviceusertest.ServiceUser, extra map[string]string) (string, []byte) {
	t.Helper()
	kid := srv.AddKey(user.UserID, &keytest.RSA().PublicKey)
	fields := map[string]any{"keyId": kid, "userId": user.UserID}
	for k, v := range extra {
		fields[k] = v
	}
	return kid, keytest.JSON(keytest.PKCS1PEM(), fields)
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
