package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// cacheMargin is how long before its expiry a cached token stops being
// reused, so that a token printed for a script still works for a while.
const cacheMargin = time.Minute

// cacheVersion marks the layout of a cache file.
const cacheVersion = 1

// maxCacheFile bounds what is read of a cache file.
const maxCacheFile = 64 << 10

// tokenCache is one token file in the user's cache directory, named by a
// hash of what the token was obtained for. A nil *tokenCache caches nothing.
type tokenCache struct {
	dir, path, key string
}

// cachedFile is a cache file's content.
type cachedFile struct {
	Version     int       `json:"version"`
	Key         string    `json:"key"`
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	Expiry      time.Time `json:"expiry"`
}

// tokenCache returns the cache of tokens of cred for scopes, or nil when
// there is none: with noCache (-no-cache), for a personal access token (it
// makes no request, and copying it to a file would only spread it), or
// without a private cache directory.
func (o *tokenFlags) tokenCache(cred *credential, scopes []string, noCache bool) *tokenCache {
	base := userCacheDir()
	if noCache || cred.mode == modePAT || base == "" {
		return nil
	}
	// -address and -H are not in the key: the token is the instance's,
	// whichever route its request took.
	sorted := slices.Clone(scopes)
	slices.Sort(sorted)
	h := sha256.Sum256([]byte(strings.Join([]string{o.issuerBase(),
		cred.mode, cred.id, strings.Join(sorted, " ")}, "\x00")))
	key := hex.EncodeToString(h[:])
	dir := filepath.Join(base, progName)
	return &tokenCache{dir: dir, path: filepath.Join(dir, key+".json"), key: key}
}

// userCacheDir is os.UserCacheDir, or "" when there is none or it is not an
// absolute path.
func userCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil || !filepath.IsAbs(dir) {
		return ""
	}
	return dir
}

// load returns the cached token if it is valid for longer than cacheMargin
// and the file is private: a regular file of this user that nobody else can
// read or write. Anything else is ignored, and store replaces it.
func (c *tokenCache) load() *oauth2.Token {
	if c == nil || !privateDir(c.dir) {
		return nil
	}
	data, err := readPrivate(c.path)
	if err != nil {
		return nil
	}
	var cf cachedFile
	if json.Unmarshal(data, &cf) != nil || cf.Version != cacheVersion || cf.Key != c.key || cf.AccessToken == "" ||
		time.Until(cf.Expiry) <= cacheMargin {
		return nil
	}
	return &oauth2.Token{AccessToken: cf.AccessToken, TokenType: cf.TokenType, Expiry: cf.Expiry}
}

// errNotPrivate is a cache file that others could read or have written.
var errNotPrivate = errors.New("not a private file")

// readPrivate reads path if it is a private file, checked on the file
// opened so that it cannot be swapped between the check and the read. Only
// a regular file is opened, and without waiting on a named pipe (see
// openRegular); a link is not followed.
func readPrivate(path string) ([]byte, error) {
	before, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, errNotPrivate
	}
	f, fi, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !os.SameFile(before, fi) || !private(fi, 0) {
		return nil, errNotPrivate
	}
	return io.ReadAll(io.LimitReader(f, maxCacheFile))
}

// private reports whether fi is of this user, of the kind wanted (0 for a
// regular file), and closed to group and others.
func private(fi os.FileInfo, kind os.FileMode) bool {
	return fi.Mode().Type() == kind && fi.Mode().Perm()&0o077 == 0 && ownedByMe(fi)
}

// privateDir makes dir if needed and reports whether it is a directory of
// this user closed to others, closing it when it is not.
func privateDir(dir string) bool {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false
	}
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || !ownedByMe(fi) {
		return false
	}
	if fi.Mode().Perm()&0o077 != 0 && os.Chmod(dir, 0o700) != nil {
		return false
	}
	return true
}

// store writes tok to the cache, atomically and private from the start:
// a temporary file (mode 0600) renamed over the old one. Failures are
// ignored: the cache only saves requests.
func (c *tokenCache) store(tok *oauth2.Token) {
	if c == nil || tok.Expiry.IsZero() || !privateDir(c.dir) {
		return
	}
	data, err := json.Marshal(cachedFile{Version: cacheVersion, Key: c.key, AccessToken: tok.AccessToken,
		TokenType: tok.TokenType, Expiry: tok.Expiry.UTC()})
	if err != nil {
		return
	}
	f, err := os.CreateTemp(c.dir, ".token-*")
	if err != nil {
		return
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr != nil || cerr != nil || replace(f.Name(), c.path) != nil {
		os.Remove(f.Name())
	}
}

// replace renames tmp to path, first removing a directory in the way.
func replace(tmp, path string) error {
	if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
		if err := os.RemoveAll(path); err != nil {
			return err
		}
	}
	return os.Rename(tmp, path)
}
