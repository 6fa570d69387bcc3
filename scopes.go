package serviceuser

// DefaultScopes returns the scopes requested when a config's Scopes is
// empty ("openid": ZITADEL requires at least one), in a new slice each time.
// Package github.com/go-serviceuser/serviceuser/scope names ZITADEL's
// reserved scopes.
func DefaultScopes() []string { return []string{"openid"} }
