package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestInspect(t *testing.T) {
	f := newFixture(t)
	r := f.run(t, nil, "inspect", "-key", f.keyPath)
	checkCode(t, r, exitOK)
	for _, want := range []string{"serviceaccount", f.user.KeyID, f.user.UserID, "RSA-2048", "never", "expired:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, r.stdout)
		}
	}

	r = f.run(t, nil, "inspect", "-json", "-key", f.keyPath)
	checkCode(t, r, exitOK)
	var got keySummary
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("stdout %q: %v", r.stdout, err)
	}
	want := keySummary{Type: "serviceaccount", KeyID: f.user.KeyID, UserID: f.user.UserID,
		KeyKind: "RSA-2048", Expiration: "never"}
	if got != want {
		t.Errorf("inspect -json = %+v, want %+v", got, want)
	}
}

func TestInspectApplicationKey(t *testing.T) {
	f := newFixture(t)
	path := f.modifiedKey(t, map[string]any{"type": "application", "userId": nil, "appId": "app-1", "clientId": "client-1@p"})
	r := f.run(t, nil, "inspect", "-key", path)
	checkCode(t, r, exitOK)
	for _, want := range []string{"application", "app-1", "client-1@p"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, r.stdout)
		}
	}
	// An application key cannot obtain tokens with the JWT bearer grant.
	checkCode(t, f.run(t, nil, "-key", path, "-issuer", f.srv.Issuer()), exitKey)
	if n := f.srv.TokenRequests(); n != 0 {
		t.Errorf("%d token requests for an application key", n)
	}
}

func TestExpiredKey(t *testing.T) {
	f := newFixture(t)
	path := f.modifiedKey(t, map[string]any{"expirationDate": "2020-01-02T03:04:05Z"})
	r := f.run(t, nil, "inspect", "-key", path)
	checkCode(t, r, exitKey)
	if !strings.Contains(r.stdout, "2020-01-02T03:04:05Z") || !strings.Contains(r.stdout, "expired:        yes") {
		t.Errorf("inspect of an expired key:\n%s", r.stdout)
	}
	for _, args := range [][]string{{"token"}, {"assertion"}, {"userinfo"}} {
		checkCode(t, f.run(t, nil, append(args, "-key", path, "-issuer", f.srv.Issuer())...), exitKey)
	}
	if n := f.srv.TokenRequests(); n != 0 {
		t.Errorf("%d token requests with an expired key", n)
	}
}
