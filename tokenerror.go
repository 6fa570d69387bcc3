package serviceuser

import (
	"net/http"

	"github.com/go-serviceuser/serviceuser/internal/answer"
	"github.com/go-serviceuser/serviceuser/internal/redact"
)

// Bounds of the text of errors: TokenError.Description (TokenError.Code is
// bounded by answer.MaxCode), and the whole line of TokenError.Error and
// DiscoveryError.Error, which the longest code, description and hint fit.
const (
	maxDescription = 300
	maxErrorText   = 1 << 10
)

// tokenError is the *TokenError of a failed request; an answer read gets a
// hint (see hintFor), which looks at all of the description.
func tokenError(e *answer.Error) *TokenError {
	te := &TokenError{Endpoint: e.Endpoint, StatusCode: e.StatusCode, Code: e.Code,
		Description: redact.Line(e.Description, maxDescription), RetryAfter: e.RetryAfter, Err: e.Err}
	if e.Answered {
		te.Hint = hint(e)
	}
	return te
}

// hint explains an answer; for a refused assertion it leads with the clock
// offset the answer's Date header shows, when that is what refused it.
func hint(e *answer.Error) string {
	h := hintFor(e.Endpoint, e.Grant, e.StatusCode, e.Code, e.Description)
	if h != hintAssertion && h != hintInvalidGrant {
		return h
	}
	if drift := clockDrift(e.Date, e.Now); drift != "" {
		return drift + "; " + h
	}
	return h
}

// endpointError turns an error answer of any endpoint into a *TokenError.
func endpointError(a answer.Answer) *TokenError { return tokenError(a.Parse()) }

// networkError is the error of a request that got no usable answer: none at
// all (resp is nil) or one whose body could not be read.
func networkError(endpoint string, resp *http.Response, err error) error {
	return tokenError(answer.Network(endpoint, resp, err))
}
