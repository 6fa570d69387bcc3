package serviceuser_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/filewatch"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/go-serviceuser/serviceuser/userinfo"
)

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
