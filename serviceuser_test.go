package serviceuser_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/filewatch"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
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

// userinfoClaims gets the claims of url, the userinfo endpoint, with client.
func userinfoClaims(t *testing.T, client *http.Client, url string) map[string]any {
	t.Helper()
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var claims map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&claims))
	return claims
}

func TestKeyFileToUserinfo(t *testing.T) {
	for name, kind := range map[string]serviceusertest.KeyKind{
		"RSA PKCS#1": serviceusertest.KeyRSA, "RSA PKCS#8": serviceusertest.KeyRSAPKCS8, "EC P-256": serviceusertest.KeyEC,
	} {
		t.Run(name, func(t *testing.T) {
			srv, user, cfg := setup(t, kind)
			c := client(t, cfg)
			for range 3 {
				claims := userinfoClaims(t, c, srv.UserinfoURL())
				assert.Equal(t, user.UserID, claims["sub"])
			}
			assert.Equal(t, 1, srv.TokenRequests(), "the token is cached across requests")
		})
	}
}

func TestIssuerTrailingSlashIsNormalized(t *testing.T) {
	srv, _, cfg := setup(t, serviceusertest.KeyRSA)
	cfg.Issuer = srv.Issuer() + "/"
	_, err := tokenSource(t, cfg).Token()
	require.NoError(t, err, "aud must be the issuer without the slash")
}

func TestExplicitTokenURLSkipsDiscovery(t *testing.T) {
	srv, _, cfg := setup(t, serviceusertest.KeyRSA)
	cfg.TokenURL = srv.TokenURL()
	cfg.Issuer = srv.Issuer()
	tok, err := tokenSource(t, cfg).Token()
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)
}

// TestRequestShape records what the client sends to the token endpoint.
func TestRequestShape(t *testing.T) {
	_, _, cfg := setup(t, serviceusertest.KeyRSA)
	var form url.Values
	var contentType string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		contentType = r.Header.Get("Content-Type")
		require.NoError(t, r.ParseForm())
		form = r.PostForm
		io.WriteString(w, `{"access_token":"at","token_type":"Bearer","expires_in":60}`)
	}))
	defer proxy.Close()
	cfg.TokenURL = proxy.URL
	cfg.Scopes = nil
	_, err := tokenSource(t, cfg).Token()
	require.NoError(t, err)
	assert.Equal(t, "application/x-www-form-urlencoded", contentType)
	assert.Equal(t, serviceusertest.GrantTypeJWTBearer, form.Get("grant_type"))
	assert.Equal(t, "urn:ietf:params:oauth:grant-type:jwt-bearer", form.Get("grant_type"))
	assert.Equal(t, "openid", form.Get("scope"), "default scope")
	assert.Len(t, strings.Split(form.Get("assertion"), "."), 3)
	assert.Empty(t, form.Get("client_assertion_type"))
}

func TestClockDriftTolerated(t *testing.T) {
	for _, offset := range []time.Duration{-30 * time.Second, -5 * time.Second, 0, 2 * time.Second, 30 * time.Second} {
		t.Run(offset.String(), func(t *testing.T) {
			srv, _, cfg := setup(t, serviceusertest.KeyRSA)
			srv.SetClockOffset(offset)
			_, err := tokenSource(t, cfg).Token()
			require.NoError(t, err, "server clock %v from the client's: %v", offset, srv.Rejections())
		})
	}
}

// TestServerRejections shows each kind of refused assertion reaching the
// caller as a TokenError, for the reason the server gives.
func TestServerRejections(t *testing.T) {
	cases := map[string]struct {
		arrange func(*serviceusertest.Server, *serviceusertest.ServiceUser, *serviceuser.Config)
		reason  string
	}{
		"unknown kid": {func(s *serviceusertest.Server, u *serviceusertest.ServiceUser, c *serviceuser.Config) {
			c.Key.(*serviceuser.KeyFile).KeyID = "999"
		}, "key"},
		"revoked key": {func(s *serviceusertest.Server, u *serviceusertest.ServiceUser, c *serviceuser.Config) {
			s.RevokeKey(u.KeyID)
		}, "key"},
		"wrong audience": {func(s *serviceusertest.Server, u *serviceusertest.ServiceUser, c *serviceuser.Config) {
			c.TokenURL, c.Issuer = s.TokenURL(), "https://other.example.com"
		}, "udience"},
		"iat in the future": {func(s *serviceusertest.Server, u *serviceusertest.ServiceUser, c *serviceuser.Config) {
			s.SetClockOffset(-2 * time.Minute)
		}, "future"},
		"expired assertion": {func(s *serviceusertest.Server, u *serviceusertest.ServiceUser, c *serviceuser.Config) {
			s.SetClockOffset(2 * time.Hour)
		}, "xpired"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv, user, cfg := setup(t, serviceusertest.KeyRSA)
			key := *cfg.Key.(*serviceuser.KeyFile)
			cfg.Key = &key
			tc.arrange(srv, user, &cfg)
			_, err := tokenSource(t, cfg).Token()
			var te *serviceuser.TokenError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, http.StatusInternalServerError, te.StatusCode, "current ZITADEL answers 500")
			assert.Contains(t, te.Hint, "clock", "the error names the usual causes")
			var re *oauth2.RetrieveError
			assert.ErrorAs(t, err, &re)
			rejections := srv.Rejections()
			require.NotEmpty(t, rejections)
			assert.LessOrEqual(t, len(rejections), 5, "a few quick retries (a key made moments ago is refused alike), then backoff")
			assert.Contains(t, rejections[0].Error(), tc.reason)
		})
	}
}

func TestLocallyExpiredKeyMakesNoRequest(t *testing.T) {
	srv, _, cfg := setup(t, serviceusertest.KeyRSA)
	key := *cfg.Key.(*serviceuser.KeyFile)
	key.ExpirationDate = time.Now().Add(-time.Minute)
	cfg.Key = &key
	_, err := tokenSource(t, cfg).Token()
	assert.ErrorIs(t, err, serviceuser.ErrKeyExpired)
	assert.Equal(t, 0, srv.TokenRequests())
}

func TestConfigErrorsMakeNoRequest(t *testing.T) {
	srv, _, good := setup(t, serviceusertest.KeyRSA)
	app := *good.Key.(*serviceuser.KeyFile)
	app.Type = serviceuser.KeyTypeApplication
	cases := map[string]func(*serviceuser.Config){
		"no key":          func(c *serviceuser.Config) { c.Key = nil },
		"nil key file":    func(c *serviceuser.Config) { c.Key = (*serviceuser.KeyFile)(nil) },
		"nil key watcher": func(c *serviceuser.Config) { c.Key = (*filewatch.KeySource)(nil) },
		"zero key":        func(c *serviceuser.Config) { c.Key = &serviceuser.KeyFile{} },
		"application key": func(c *serviceuser.Config) { c.Key = &app },
		"no issuer":       func(c *serviceuser.Config) { c.Issuer = "" },
		"plain http":      func(c *serviceuser.Config) { c.Issuer = "http://zitadel.example.com" },
		"relative":        func(c *serviceuser.Config) { c.Issuer = "zitadel.example.com" },
		"scope space":     func(c *serviceuser.Config) { c.Scopes = []string{"openid profile"} },
		"empty scope":     func(c *serviceuser.Config) { c.Scopes = []string{""} },
		"bad token URL":   func(c *serviceuser.Config) { c.TokenURL = "http://example.com/token" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := good
			mutate(&cfg)
			var ce *serviceuser.ConfigError
			require.ErrorAs(t, cfg.Validate(), &ce)
			_, err := tokenSource(t, cfg).Token()
			require.ErrorAs(t, err, &ce)
		})
	}
	assert.Equal(t, 0, srv.TokenRequests())
	assert.NoError(t, good.Validate())
}

func TestDiscoveryIssuerMustMatch(t *testing.T) {
	srv, _, cfg := setup(t, serviceusertest.KeyRSA)
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"issuer":"`+srv.Issuer()+`","token_endpoint":"`+srv.TokenURL()+`"}`)
	}))
	defer elsewhere.Close()
	cfg.Issuer = elsewhere.URL
	_, err := tokenSource(t, cfg).Token()
	var de *serviceuser.DiscoveryError
	require.ErrorAs(t, err, &de)
	assert.True(t, de.Permanent(), "a document for another issuer is a configuration error")
	assert.Equal(t, 0, srv.TokenRequests())

	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.Issuer()+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirecting.Close()
	cfg.Issuer = redirecting.URL
	_, err = tokenSource(t, cfg).Token()
	require.ErrorAs(t, err, &de)
	assert.False(t, de.Permanent(), "a redirect is not followed, and may be a proxy not ready yet")
	assert.Equal(t, 0, srv.TokenRequests())

	ep, err := userinfo.Discover(context.Background(), srv.Issuer()+"/", serviceuser.Route{}, nil)
	require.NoError(t, err)
	assert.Equal(t, srv.TokenURL(), ep.TokenURL)
	assert.Equal(t, srv.UserinfoURL(), ep.UserinfoURL)
}

func TestTokenRequestTimesOut(t *testing.T) {
	srv, _, cfg := setup(t, serviceusertest.KeyRSA)
	cfg.TokenURL = srv.TokenURL()
	cfg.Timeout = 50 * time.Millisecond
	srv.FailNext(1, serviceusertest.Fault{Hang: true})
	_, err := tokenSource(t, cfg).Token()
	var te *serviceuser.TokenError
	require.ErrorAs(t, err, &te)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
	assert.Equal(t, 0, te.StatusCode)
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }

// tokenEndpoint is a token endpoint that reports on closed each connection
// a client closes.
func tokenEndpoint(t *testing.T) (url string, closed <-chan struct{}) {
	t.Helper()
	ch := make(chan struct{}, 10)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at","token_type":"Bearer","expires_in":43199}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateClosed {
			ch <- struct{}{}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

// TestCloseClosesOwnConnections: Close ends the keep-alive connections of the
// transport the library made for the source.
func TestCloseClosesOwnConnections(t *testing.T) {
	_, _, cfg := setup(t, serviceusertest.KeyRSA)
	endpoint, closed := tokenEndpoint(t)
	cfg.TokenURL = endpoint
	ts := cfg.TokenSource(context.Background())
	_, err := ts.Token()
	require.NoError(t, err)
	require.NoError(t, ts.Close())
	select {
	case <-closed:
	case <-time.After(10 * time.Second): // a guard against hanging, not a measure
		t.Fatal("the keep-alive connection is still open after Close")
	}
}

// TestCloseLeavesUserTransport: a transport the user gave is not the
// library's to close; its connection is reused after Close.
func TestCloseLeavesUserTransport(t *testing.T) {
	_, _, cfg := setup(t, serviceusertest.KeyRSA)
	endpoint, _ := tokenEndpoint(t)
	own := &http.Transport{}
	defer own.CloseIdleConnections()
	cfg.TokenURL, cfg.HTTPClient = endpoint, &http.Client{Transport: own}
	ts := cfg.TokenSource(context.Background())
	_, err := ts.Token()
	require.NoError(t, err)
	require.NoError(t, ts.Close())

	var reused bool
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, endpoint, nil)
	require.NoError(t, err)
	resp, err := own.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.True(t, reused, "the user's connection was closed")
}

// TestNilContextMeansBackground: as in x/oauth2, a nil ctx is taken for
// context.Background() by both configs' TokenSource and Client.
func TestNilContextMeansBackground(t *testing.T) {
	srv, _, cfg := setup(t, serviceusertest.KeyRSA)
	user, secret := srv.NewServiceUserWithSecret()
	cc := serviceuser.ClientCredentialsConfig{ClientID: user.Username, ClientSecret: serviceuser.Secret(secret),
		Issuer: srv.Issuer(), Scopes: []string{"openid"}}
	for name, c := range map[string]interface {
		TokenSource(context.Context) *serviceuser.TokenSource
		Client(context.Context) *http.Client
	}{"Config": cfg, "ClientCredentialsConfig": cc} {
		t.Run(name, func(t *testing.T) {
			var nilCtx context.Context
			ts := c.TokenSource(nilCtx)
			defer ts.Close()
			_, err := ts.Token()
			require.NoError(t, err)
			userinfoClaims(t, c.Client(nilCtx), srv.UserinfoURL())
		})
	}
}
