package serviceuser

import (
	"regexp"
	"strings"
)

// redacted replaces secrets in text that may be shown to a user.
const redacted = "[redacted]"

// minSecretLength: shorter values are not credentials, and replacing them
// would mangle ordinary words.
const minSecretLength = 8

// maxEchoedBody bounds how much of an error body is kept in errors.
const maxEchoedBody = 2 << 10

// jwtPattern matches compact JWS/JWE values, whatever issued them.
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_\-.]*`)

// tokenFieldPattern matches JSON members that carry tokens.
var tokenFieldPattern = regexp.MustCompile(`("(?:access_token|id_token|refresh_token|assertion|client_secret)"\s*:\s*")[^"]*(")`)

// redact removes the given secrets, anything shaped like a JWT and the values
// of token-carrying JSON members from s, and truncates it to maxEchoedBody.
func redact(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) >= minSecretLength {
			s = strings.ReplaceAll(s, secret, redacted)
		}
	}
	s = jwtPattern.ReplaceAllString(s, redacted)
	s = tokenFieldPattern.ReplaceAllString(s, "${1}"+redacted+"${2}")
	if len(s) > maxEchoedBody {
		s = s[:maxEchoedBody] + "..."
	}
	return s
}
