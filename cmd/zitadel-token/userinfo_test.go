package main

import (
	"encoding/json"
	"testing"
)

func TestUserinfo(t *testing.T) {
	f := newFixture(t)
	for _, extra := range [][]string{
		nil, // userinfo and token endpoints from discovery
		{"-token-url", f.tokenProxy(t), "-userinfo-url", f.srv.UserinfoURL()},
	} {
		r := f.run(t, nil, append([]string{"userinfo", "-key", f.keyPath, "-issuer", f.srv.Issuer()}, extra...)...)
		checkCode(t, r, exitOK)
		var claims map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &claims); err != nil || claims["sub"] != f.user.UserID {
			t.Errorf("userinfo printed %q, want sub %s", r.stdout, f.user.UserID)
		}
	}
	if len(f.knownTokens()) != 1 {
		t.Errorf("the proxy saw %d tokens, want 1", len(f.knownTokens()))
	}
}

func TestUserinfoRefused(t *testing.T) {
	f := newFixture(t)
	// A userinfo URL that is not the userinfo endpoint answers 404.
	r := f.run(t, nil, "userinfo", "-key", f.keyPath, "-issuer", f.srv.Issuer(),
		"-token-url", f.tokenProxy(t), "-userinfo-url", f.srv.Issuer()+"/nowhere")
	checkCode(t, r, exitRefused)
	if r.stdout != "" {
		t.Errorf("stdout %q after a refused userinfo", r.stdout)
	}
}
