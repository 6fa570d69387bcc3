package introspection

import "fmt"

// Mode is how an Introspector checks tokens: at ZITADEL's introspection
// endpoint, or, for JWT access tokens, against ZITADEL's key set (see
// Config.Mode).
type Mode int

const (
	// ModeIntrospect asks the introspection endpoint about every token, JWT
	// or opaque: a revoked token is refused at once (after Config.CacheTTL
	// at most). It is the zero Mode.
	ModeIntrospect Mode = iota
	// ModeJWT verifies JWT access tokens against ZITADEL's key set and
	// refuses every other token: no introspection, so Config.Key is not
	// needed. A revoked JWT is accepted until it expires.
	ModeJWT
	// ModeJWTOrIntrospect verifies JWT access tokens against ZITADEL's key
	// set and asks the introspection endpoint about opaque ones (personal
	// access tokens are always opaque). A JWT the key set does not verify
	// is inactive, not asked about: it may be forged.
	ModeJWTOrIntrospect
)

// String returns the mode's name.
func (m Mode) String() string {
	switch m {
	case ModeIntrospect:
		return "ModeIntrospect"
	case ModeJWT:
		return "ModeJWT"
	case ModeJWTOrIntrospect:
		return "ModeJWTOrIntrospect"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// verifiesJWT reports whether m checks JWTs against the key set.
func (m Mode) verifiesJWT() bool { return m == ModeJWT || m == ModeJWTOrIntrospect }

// introspects reports whether m asks the introspection endpoint about
// opaque tokens.
func (m Mode) introspects() bool { return m == ModeIntrospect || m == ModeJWTOrIntrospect }
