package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// adminFixture is the admin endpoint of an in-process fake, called without
// a network, so that it runs in a synctest bubble on the bubble's clock.
type adminFixture struct {
	srv *serviceusertest.Server
	h   http.Handler
	cfg serviceuser.Config
}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	srv := serviceusertest.NewServer(serviceusertest.InProcess())
	t.Cleanup(srv.Close)
	key, err := serviceuser.ParseKeyFile(srv.NewServiceUser().KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return &adminFixture{
		srv: srv,
		h:   adminHandler(newKnobs(srv, settings{TokenLifetime: defaultTokenLifetime})),
		cfg: serviceuser.Config{Key: key, Issuer: srv.Issuer(), HTTPClient: srv.Client()},
	}
}

// call sends method path to the admin endpoint and returns the status and
// the decoded answer.
func (f *adminFixture) call(t *testing.T, method, path string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Code, body
}

// post turns a knob and returns the settings the answer reports.
func (f *adminFixture) post(t *testing.T, path string) map[string]any {
	t.Helper()
	code, body := f.call(t, http.MethodPost, path)
	if code != http.StatusOK {
		t.Fatalf("POST %s: %d %v", path, code, body)
	}
	s, _ := body["settings"].(map[string]any)
	return s
}

// tokenStatus asks for a token and returns the error's HTTP status, 0 for
// a token.
func (f *adminFixture) tokenStatus(t *testing.T) int {
	t.Helper()
	_, err := f.cfg.Token(context.Background())
	var te *serviceuser.TokenError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &te):
		return te.StatusCode
	}
	t.Fatalf("token: %v", err)
	return -1
}

func TestAdminLatencyAndTokenLifetime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newAdminFixture(t)
		if s := f.post(t, "/admin/latency?d=200ms"); s["latency"] != "200ms" {
			t.Errorf("settings after latency: %v", s)
		}
		if s := f.post(t, "/admin/token-lifetime?d=60s"); s["token_lifetime"] != "1m0s" {
			t.Errorf("settings after token-lifetime: %v", s)
		}
		start := time.Now()
		tok, err := f.cfg.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took != 200*time.Millisecond {
			t.Errorf("token request took %s, want the 200ms latency", took)
		}
		if life := tok.Expiry.Sub(start); life != time.Minute {
			t.Errorf("token valid for %s from the request, want 60s", life)
		}
	})
}

func TestAdminClockOffset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newAdminFixture(t)
		f.post(t, "/admin/clock-offset?d=-30s")
		res, err := f.srv.Client().Get(f.srv.Issuer() + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		date, err := http.ParseTime(res.Header.Get("Date"))
		if err != nil {
			t.Fatal(err)
		}
		if skew := time.Until(date).Round(time.Second); skew != -30*time.Second {
			t.Errorf("server clock off by %s, want -30s", skew)
		}
	})
}

func TestAdminProjectionDelayAndLegacyErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newAdminFixture(t)
		f.post(t, "/admin/projection-delay?d=1h")
		if got := f.tokenStatus(t); got != http.StatusInternalServerError {
			t.Errorf("key made now with a 1h projection delay: status %d, want 500", got)
		}
		if s := f.post(t, "/admin/legacy-errors?on=true"); s["legacy_errors"] != true {
			t.Errorf("settings after legacy-errors: %v", s)
		}
		if got := f.tokenStatus(t); got != http.StatusBadRequest {
			t.Errorf("with legacy errors: status %d, want 400", got)
		}
		f.post(t, "/admin/projection-delay?d=0s")
		if got := f.tokenStatus(t); got != 0 {
			t.Errorf("after the delay is cleared: status %d, want a token", got)
		}
		_, st := f.call(t, http.MethodGet, "/admin/stats")
		rej, _ := st["rejections"].([]any)
		if len(rej) != 2 || !strings.Contains(rej[0].(string), serviceusertest.ErrNotProjected.Error()) {
			t.Errorf("rejections %v, want two for a key not projected yet", rej)
		}
	})
}

func TestAdminFail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newAdminFixture(t)
		f.post(t, "/admin/fail?n=2&status=502")
		for i, want := range []int{502, 502, 0} {
			if got := f.tokenStatus(t); got != want {
				t.Errorf("token request %d: status %d, want %d", i+1, got, want)
			}
		}
		f.post(t, "/admin/fail")
		f.post(t, "/admin/fail?n=0")
		if got := f.tokenStatus(t); got != 0 {
			t.Errorf("after n=0: status %d, want the queued fault dropped", got)
		}
		f.post(t, "/admin/fail?endpoint=introspection&status=503")
		res, err := f.srv.Client().Post(f.srv.IntrospectionURL(), "application/x-www-form-urlencoded", strings.NewReader("token=x"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("introspection after endpoint=introspection: %d, want 503", res.StatusCode)
		}
		_, st := f.call(t, http.MethodGet, "/admin/stats")
		if st["token_requests"] != 4.0 || st["issued_tokens"] != 2.0 || st["introspection_requests"] != 1.0 {
			t.Errorf("stats %v, want 4 token requests, 2 issued, 1 introspection", st)
		}
	})
}

func TestAdminRefusesBadRequests(t *testing.T) {
	f := newAdminFixture(t)
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/admin/latency", http.StatusBadRequest},
		{http.MethodPost, "/admin/latency?d=soon", http.StatusBadRequest},
		{http.MethodPost, "/admin/latency?d=-1s", http.StatusBadRequest},
		{http.MethodPost, "/admin/projection-delay?d=-1s", http.StatusBadRequest},
		{http.MethodPost, "/admin/legacy-errors?on=maybe", http.StatusBadRequest},
		{http.MethodPost, "/admin/fail?n=-1", http.StatusBadRequest},
		{http.MethodPost, "/admin/fail?n=two", http.StatusBadRequest},
		{http.MethodPost, "/admin/fail?status=99", http.StatusBadRequest},
		{http.MethodPost, "/admin/fail?status=600", http.StatusBadRequest},
		{http.MethodPost, "/admin/fail?endpoint=userinfo", http.StatusBadRequest},
		{http.MethodGet, "/admin/latency?d=1s", http.StatusMethodNotAllowed},
		{http.MethodPost, "/admin/stats", http.StatusMethodNotAllowed},
		{http.MethodGet, "/oauth/v2/token", http.StatusNotFound},
	} {
		if code, body := f.call(t, c.method, c.path); code != c.want {
			t.Errorf("%s %s: %d %v, want %d", c.method, c.path, code, body, c.want)
		}
	}
	// Refused requests change nothing.
	_, st := f.call(t, http.MethodGet, "/admin/stats")
	want := `{"clock_offset":"0s","latency":"0s","legacy_errors":false,"projection_delay":"0s","token_lifetime":"11h59m59s"}`
	if got, _ := json.Marshal(st["settings"]); string(got) != want {
		t.Errorf("settings after refused requests: %s, want %s", got, want)
	}
	if got := f.tokenStatus(t); got != 0 {
		t.Errorf("token after refused requests: status %d", got)
	}
}
