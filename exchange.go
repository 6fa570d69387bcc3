package serviceuser

import "github.com/go-serviceuser/serviceuser/internal/answer"

// tokenError is the *TokenError of a failed request: an *answer.Error has
// its fields, hint included.
func tokenError(e *answer.Error) *TokenError { return (*TokenError)(e) }
