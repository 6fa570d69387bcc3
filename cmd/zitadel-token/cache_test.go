package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cacheFiles returns the token files in the tool's cache directory under base.
func cacheFiles(t *testing.T, base string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(base, "zitadel-token", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// onlyCacheFile returns the one token file under base.
func onlyCacheFile(t *testing.T, base string) string {
	t.Helper()
	files := cacheFiles(t, base)
	if len(files) != 1 {
		t.Fatalf("%d cache files, want 1: %q", len(files), files)
	}
	return files[0]
}

func checkPrivate(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != want {
		t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
	}
}

// cachedToken runs token and returns the token printed.
func (f *fixture) cachedToken(t *testing.T, env map[string]string, extra ...string) string {
	t.Helper()
	return f.printedToken(t, env, append([]string{"token", "-key", f.keyPath, "-issuer", f.srv.Issuer()}, extra...)...)
}

func (f *fixture) checkRequests(t *testing.T, want int) {
	t.Helper()
	if n := f.srv.TokenRequests(); n != want {
		t.Errorf("%d token requests, want %d", n, want)
	}
}

// checkCacheReplaced runs token after the cache file was spoiled: the
// token is requested anew, the file replaced by a private regular file, and
// that file reused by the next run.
func (f *fixture) checkCacheReplaced(t *testing.T, env map[string]string, file string) {
	t.Helper()
	want := f.srv.TokenRequests() + 1
	f.cachedToken(t, env)
	f.checkRequests(t, want)
	fi, err := os.Lstat(file)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the cache file was not replaced: %v %v", fi, err)
	}
	f.cachedToken(t, env)
	f.checkRequests(t, want)
}

func TestTokenCache(t *testing.T) {
	f := newFixture(t)
	base := t.TempDir()
	env := map[string]string{"XDG_CACHE_HOME": base}
	first := f.cachedToken(t, env)
	if again := f.cachedToken(t, env); again != first {
		t.Error("the second run printed another token")
	}
	f.checkRequests(t, 1)
	file := onlyCacheFile(t, base)
	checkPrivate(t, file, 0o600)
	checkPrivate(t, filepath.Dir(file), 0o700)

	r := f.run(t, env, "userinfo", "-key", f.keyPath, "-issuer", f.srv.Issuer())
	checkCode(t, r, exitOK)
	f.checkRequests(t, 1)

	f.cachedToken(t, env, "-scope", "openid profile")
	f.checkRequests(t, 2)
	if n := len(cacheFiles(t, base)); n != 2 {
		t.Errorf("%d cache files after another scope, want 2", n)
	}
	if tok := f.cachedToken(t, env, "-no-cache"); tok == first {
		t.Error("-no-cache printed the cached token")
	}
	f.checkRequests(t, 3)
	if f.cachedToken(t, env) != first {
		t.Error("-no-cache replaced the cached token")
	}
	f.checkRequests(t, 3)
}

func TestTokenCacheHome(t *testing.T) {
	f := newFixture(t)
	home := t.TempDir()
	env := map[string]string{"HOME": home}
	f.cachedToken(t, env)
	f.cachedToken(t, env)
	f.checkRequests(t, 1)
	onlyCacheFile(t, filepath.Join(home, ".cache"))
}

func TestTokenCacheRefused(t *testing.T) {
	f := newFixture(t)
	base := t.TempDir()
	env := map[string]string{"XDG_CACHE_HOME": base}
	f.cachedToken(t, env)
	file := onlyCacheFile(t, base)
	spoil := map[string]func(){
		"corrupt":        func() { os.WriteFile(file, []byte("{not json"), 0o600) },
		"empty":          func() { os.WriteFile(file, nil, 0o600) },
		"readable":       func() { os.Chmod(file, 0o644) },
		"group-writable": func() { os.Chmod(file, 0o620) },
		"directory":      func() { os.Remove(file); os.Mkdir(file, 0o700) },
		"symlink":        func() { os.Remove(file); os.Symlink(filepath.Join(base, "elsewhere"), file) },
		"another key's": func() {
			data, _ := os.ReadFile(file)
			os.WriteFile(file, []byte(strings.Replace(string(data), `"key":"`, `"key":"0`, 1)), 0o600)
		},
	}
	if os.Getuid() == 0 {
		spoil["another user's"] = func() { os.Chown(file, 65534, 65534) }
	}
	for name, spoilIt := range spoil {
		t.Run(name, func(t *testing.T) {
			spoilIt()
			f.checkCacheReplaced(t, env, file)
		})
	}
	os.RemoveAll(filepath.Dir(file))
	os.Mkdir(filepath.Dir(file), 0o755)
	f.cachedToken(t, env)
	checkPrivate(t, filepath.Dir(file), 0o700)
}

func TestTokenCacheExpiry(t *testing.T) {
	f := newFixture(t)
	env := map[string]string{"XDG_CACHE_HOME": t.TempDir()}
	f.srv.SetTokenLifetime(cacheMargin + 5*time.Minute)
	f.cachedToken(t, env)
	f.cachedToken(t, env)
	f.checkRequests(t, 1)
	f.srv.SetTokenLifetime(cacheMargin)
	f.cachedToken(t, env, "-scope", "profile")
	f.cachedToken(t, env, "-scope", "profile")
	f.checkRequests(t, 3) // expiring within the margin: not reused
}

func TestTokenCacheNotForPAT(t *testing.T) {
	f := newSecretFixture(t)
	base := t.TempDir()
	r := f.run(t, map[string]string{"XDG_CACHE_HOME": base, envPAT: f.pat}, "token")
	checkCode(t, r, exitOK)
	if files := cacheFiles(t, base); len(files) != 0 {
		t.Errorf("a personal access token was written to %q", files)
	}
}
