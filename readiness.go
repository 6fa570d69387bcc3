package serviceuser

import "errors"

// ErrNotReady is Ready's answer before the first token request has ended.
var ErrNotReady = errors.New("serviceuser: no token yet")

// Ready reports whether the source can serve a token without waiting, for
// health and readiness endpoints: nil while a valid token is cached;
// otherwise the last token request's error, or ErrNotReady when none has
// ended yet (or the token was dropped). It makes no request.
func (ts *TokenSource) Ready() error {
	if ts.cache != nil && ts.cache.Valid() {
		return nil
	}
	if err := ts.LastError(); err != nil {
		return err
	}
	return ErrNotReady
}
