package serviceuser

import (
	"net/http"

	"github.com/go-serviceuser/serviceuser/internal/answer"
)

// maxDescription bounds TokenError.Description.
const maxDescription = 300

// tokenError is the *TokenError of a failed request; an answer read gets a
// hint (see hintFor).
func tokenError(e *answer.Error) *TokenError {
	te := &TokenError{Endpoint: e.Endpoint, StatusCode: e.StatusCode, Code: e.Code, Description: e.Description,
		RetryAfter: e.RetryAfter, Err: e.Err}
	if e.Answered {
		te.Description = truncate(e.Description, maxDescription)
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
