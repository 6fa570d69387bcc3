package introspection

import (
	"context"
	"time"
)

// checkJWT verifies a JWT access token against the key set, or takes the
// Result of an earlier verification from the cache; hit is true then. The
// cache holds verified tokens only, so it is asked before the shape is
// checked. A
// token refused is inactive, as introspection would report it.
func (in *Introspector) checkJWT(ctx context.Context, token string) (r *Result, hit bool, err error) {
	if len(token) > maxJWTLen {
		return &Result{}, false, nil // never cached: refused before it is copied and hashed
	}
	key := sumString(token) // the cache never holds raw tokens
	now := time.Now()
	in.mu.Lock()
	found, ok := in.verified.get(key, now)
	in.mu.Unlock()
	if ok {
		return found.clone(), true, nil
	}
	if !plausible(token) {
		return &Result{}, false, nil
	}
	r, err = in.jwt.verify(ctx, token, now)
	switch {
	case err == errRefused:
		return &Result{}, false, nil
	case err != nil:
		return nil, false, err
	}
	// Kept until exp, at most CacheTTL: a key that leaves the key set stops
	// verifying the tokens it signed within CacheTTL of the set's refresh.
	if in.ttl >= 0 {
		until := r.ExpiresAt.Add(JWTLeeway)
		if until.After(now.Add(in.ttl)) {
			until = now.Add(in.ttl)
		}
		in.mu.Lock()
		in.verified.put(key, r, until)
		in.mu.Unlock()
	}
	return r.clone(), false, nil
}

// AlwaysIntrospect returns an Introspector that asks the introspection
// endpoint about every token, JWT access tokens included, for routes where
// a revoked token must be refused at once (see Result.Local): in the JWT
// modes a revoked JWT still verifies against the key set until it expires.
// It shares the introspection request slots and the client assertion with
// in, but keeps results of its own; its Middleware and Require check again
// a Result that an outer Middleware of in verified locally. In
// ModeIntrospect it is in itself. Without Config.Key it reports every
// token it is asked about with a *serviceuser.ConfigError (and its
// Middleware answers 503).
func (in *Introspector) AlwaysIntrospect() *Introspector {
	if in.strict == nil {
		return in
	}
	return in.strict
}
