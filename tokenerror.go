package serviceuser

import (
	"github.com/go-serviceuser/serviceuser/internal/answer"
	"github.com/go-serviceuser/serviceuser/internal/discovery"
)

// maxErrorText bounds the whole line of TokenError.Error and
// DiscoveryError.Error, which the longest code, description and hint fit.
// (TokenError.Code and Description are bounded by the answer that made
// them.)
const maxErrorText = 1 << 10

// tokenError is the *TokenError of a failed request: an *answer.Error has
// its fields, hint included.
func tokenError(e *answer.Error) *TokenError { return (*TokenError)(e) }

// discoveryError is the *DiscoveryError of a failed discovery.
func discoveryError(e *discovery.Error) error { return (*DiscoveryError)(e) }
