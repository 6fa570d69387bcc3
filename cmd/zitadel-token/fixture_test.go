package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// fixture is a fake ZITADEL with one service user whose key file is on disk.
// It remembers every access token it has seen, so that each run can check
// that none leaked where it must not appear.
type fixture struct {
	srv     *serviceusertest.Server
	user    *serviceusertest.ServiceUser
	keyPath string
	pem     []string // base64 lines of the private key
	scope   string   // what userToken asks for

	mu     sync.Mutex
	tokens []string
}

func newFixture(t *testing.T) *fixture {
	return newFixtureWithKey(t, serviceusertest.KeyRSA)
}

func newFixtureWithKey(t *testing.T, kind serviceusertest.KeyKind) *fixture {
	t.Helper()
	srv := serviceusertest.NewServer(serviceusertest.WithECKeys())
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, user: srv.NewServiceUserWithKey(kind)}
	f.keyPath = writeFile(t, "key.json", f.user.KeyFile)
	f.addPEM(t, f.user.KeyFile)
	return f
}

// addPEM adds the private key lines of keyFile to those no output may hold.
func (f *fixture) addPEM(t *testing.T, keyFile []byte) {
	t.Helper()
	fields := keyFields(t, keyFile)
	for _, line := range strings.Split(fields["key"].(string), "\n") {
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			f.pem = append(f.pem, line)
		}
	}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func keyFields(t *testing.T, keyFile []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(keyFile, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// modifiedKey writes the fixture's key file with fields changed (nil deletes).
func (f *fixture) modifiedKey(t *testing.T, changes map[string]any) string {
	t.Helper()
	m := keyFields(t, f.user.KeyFile)
	for k, v := range changes {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "modified.json", data)
}

func readFileBytes(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (f *fixture) addToken(tok string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = append(f.tokens, tok)
}

func (f *fixture) knownTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tokens)
}

// tokenProxy returns a token URL that forwards to the fake and records the
// tokens it hands out, for the subcommands that never show their token.
func (f *fixture) tokenProxy(t *testing.T) string {
	t.Helper()
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Post(f.srv.TokenURL(), r.Header.Get("Content-Type"), r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(data, &tr) == nil && tr.AccessToken != "" {
			f.addToken(tr.AccessToken)
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		w.Write(data)
	}))
	t.Cleanup(p.Close)
	return p.URL + "/oauth/v2/token"
}

// callUserinfo calls the fake's userinfo endpoint with tok.
func callUserinfo(t *testing.T, srv *serviceusertest.Server, tok string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.UserinfoURL(), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var claims map[string]any
	json.NewDecoder(resp.Body).Decode(&claims)
	return resp.StatusCode, claims
}

func checkTokenWorks(t *testing.T, f *fixture, tok string) {
	t.Helper()
	status, claims := callUserinfo(t, f.srv, tok)
	if status != http.StatusOK || claims["sub"] != f.user.UserID {
		t.Errorf("userinfo with the printed token: %d %v, want 200 with sub %s", status, claims, f.user.UserID)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
