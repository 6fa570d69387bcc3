package serviceusertest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostRequest sends a GET for path to the listener with the given Host and
// instance host headers.
func hostRequest(t *testing.T, s *Server, path, host, instanceHost string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+s.ListenerHost()+path, nil)
	require.NoError(t, err)
	req.Host = host
	if instanceHost != "" {
		req.Header.Set(InstanceHostHeader, instanceHost)
	}
	return do(t, s, req)
}

func TestZitadelUnknownHost(t *testing.T) {
	s := newServer(t)
	assert.Equal(t, "http://"+s.ListenerHost(), s.Issuer(), "by default the instance serves its listener's host")
	_, port, _ := strings.Cut(s.ListenerHost(), ":")
	domain := "localhost:" + port
	s.SetInstanceDomain(domain)
	assert.Equal(t, "http://"+domain, s.Issuer())

	r := hostRequest(t, s, discoveryPath, s.ListenerHost(), "")
	require.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "text/plain; charset=utf-8", r.header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(r.raw, "unable to set instance using origin &{"+s.ListenerHost()+"  http} (ExternalDomain is localhost): "), r.raw)
	assert.Contains(t, r.raw, "Instance not found. Make sure you got the domain right. Check out https://zitadel.com/docs/apis/introduction#domains")

	r = hostRequest(t, s, discoveryPath, s.ListenerHost(), domain)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "http://"+domain, r.json["issuer"])
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "introspection_endpoint", "userinfo_endpoint", "revocation_endpoint", "jwks_uri"} {
		assert.True(t, strings.HasPrefix(r.json[k].(string), "http://"+domain+"/"), "%s: %v", k, r.json[k])
	}
	assert.Equal(t, http.StatusNotFound, hostRequest(t, s, discoveryPath, domain, "127.0.0.1:1").status, "the header wins over Host")
	assert.Equal(t, http.StatusOK, hostRequest(t, s, discoveryPath, domain, "").status)

	// A grant through the listener with the header; aud names the domain.
	u := s.NewServiceUser()
	form := url.Values{"grant_type": {GrantTypeJWTBearer}, "assertion": {signAs(t, u, claimsFor(s, u, time.Now()))}, "scope": {"openid"}}
	req, err := http.NewRequest(http.MethodPost, "http://"+s.ListenerHost()+tokenPath, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(InstanceHostHeader, domain)
	requireIssued(t, do(t, s, req))
	assert.Equal(t, 1, s.TokenRequests(), "refused hosts never reach the endpoints")

	s.SetInstanceDomain("")
	assert.Equal(t, http.StatusOK, hostRequest(t, s, discoveryPath, s.ListenerHost(), "").status)
}
