package introspection

// idTokenClaims are claims of the other JWTs ZITADEL signs with its access
// tokens' keys, and never of an access token (ZITADEL's claims table): an ID
// token's nonce, at_hash, c_hash and sid, a back-channel logout token's sid
// and events.
var idTokenClaims = [...]string{"nonce", "at_hash", "c_hash", "sid", "events"}

// accessToken reports whether the verified claims of r are those of an
// access token rather than of an ID token or a logout token. An ID token's
// aud holds the project of the application that asked, so aud alone would
// let one in, and ID tokens travel where access tokens do not (a logout
// URL's id_token_hint, the browser). ZITADEL's JWT access tokens always have
// a jti, its ID tokens never. r is decodeClaims', which always has claims.
func accessToken(r *Result) bool {
	return r.JWTID != "" && !r.claims.idToken
}
