package bearer_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/bearer"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// echoAuth answers with the Authorization header it received.
func echoAuth() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Authorization"))
	}))
}

// static is a Transport that sends token, which cannot be renewed.
func static(token string) *bearer.Transport {
	return &bearer.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})}
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// answered is a RoundTripper that answers 200 to every request, sending
// nothing.
type answered struct{ auth []string }

func (a *answered) RoundTrip(r *http.Request) (*http.Response, error) {
	a.auth = append(a.auth, r.Header.Get("Authorization"))
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
}

func TestTransportSetsBearerWithoutTouchingRequest(t *testing.T) {
	srv := echoAuth()
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := static("t1").RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "Bearer t1", string(body))
	assert.Empty(t, req.Header.Get("Authorization"), "caller's request is not modified")
}

func TestTransportRefusesPlainHTTPToRemoteHosts(t *testing.T) {
	closed := &trackingBody{Reader: strings.NewReader("payload")}
	req, err := http.NewRequest(http.MethodPost, "http://api.example.com/x", closed)
	require.NoError(t, err)
	base := &answered{}
	tr := static("t1")
	tr.Base = base
	_, err = tr.RoundTrip(req)
	assert.ErrorIs(t, err, serviceuser.ErrInsecureURL)
	assert.True(t, closed.closed, "request body closed on the error path")
	assert.Empty(t, base.auth, "nothing sent")

	for _, host := range []string{"127.0.0.1", "localhost", "[::1]", "svc.localhost"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+host+":1/x", nil)
		_, err := tr.RoundTrip(req)
		assert.NoError(t, err, host)
	}
	req, _ = http.NewRequest(http.MethodGet, "http://api.example.com/x", nil)
	tr.InsecureAllowPlainHTTPAnyHost = true
	_, err = tr.RoundTrip(req)
	assert.NoError(t, err)
	assert.Equal(t, []string{"Bearer t1", "Bearer t1", "Bearer t1", "Bearer t1", "Bearer t1"}, base.auth)
}

type trackingBody struct {
	io.Reader
	closed bool
}

func (b *trackingBody) Close() error { b.closed = true; return nil }

func TestTransportKeepsTokenFromOtherHostsOnRedirect(t *testing.T) {
	other := echoAuth()
	defer other.Close()
	same := http.NewServeMux()
	same.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1), http.StatusFound)
	})
	same.HandleFunc("/here", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/echo", http.StatusFound) })
	same.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Header.Get("Authorization")) })
	srv := httptest.NewServer(same)
	defer srv.Close()

	c := &http.Client{Transport: static("t1")}
	assert.Equal(t, "", get(t, c, srv.URL+"/away"), "token not sent to another host")
	assert.Equal(t, "Bearer t1", get(t, c, srv.URL+"/here"), "token kept on the same host")
}

func TestTransportReturns401WhenNoNewTokenComes(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	// A static source cannot be invalidated: the 401 is the answer.
	resp, err := (&http.Client{Transport: static("token-1")}).Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.EqualValues(t, 1, hits.Load())
}

// TestTransportSendsOrgID: OrgID becomes the header ZITADEL's APIs read.
func TestTransportSendsOrgID(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get(bearer.HeaderOrgID) }))
	defer srv.Close()
	tr := static("t1")
	tr.OrgID = "org-7"
	get(t, &http.Client{Transport: tr}, srv.URL)
	assert.Equal(t, "org-7", got)
	assert.Equal(t, "x-zitadel-orgid", bearer.HeaderOrgID)
}
