package hint

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/go-serviceuser/serviceuser/internal/assertion"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const clientCredentials = "client_credentials"

// TestHintPerEndpointAndGrant: the same answer is explained differently by
// endpoint and grant, and not at all where no cause is known.
func TestHintPerEndpointAndGrant(t *testing.T) {
	cases := map[string]struct {
		a    Answer
		want string
	}{
		"500 to an assertion": {Answer{Endpoint: EndpointToken, Grant: assertion.GrantType, StatusCode: 500, Code: "server_error"}, refusedAssertion},
		"500 to a secret":     {Answer{Endpoint: EndpointToken, Grant: clientCredentials, StatusCode: 500, Description: "Errors.Internal"}, serverFailed},
		"invalid_grant to an assertion": {Answer{Endpoint: EndpointToken, Grant: assertion.GrantType, StatusCode: 400, Code: "invalid_grant"},
			invalidGrant},
		"invalid_grant to a secret": {Answer{Endpoint: EndpointToken, Grant: clientCredentials, StatusCode: 400, Code: "invalid_grant"}, ""},
		"scope":                     {Answer{Endpoint: EndpointToken, StatusCode: 400, Code: "invalid_request", Description: "Invalid Scope"}, scope},
		"grant type":                {Answer{Endpoint: EndpointToken, StatusCode: 400, Code: "unsupported_grant_type"}, grantType},
		"user not found, token": {Answer{Endpoint: EndpointToken, StatusCode: 404, Code: "invalid_request", Description: UserNotProjected},
			userNotFound},
		"user not found, userinfo": {Answer{Endpoint: EndpointUserinfo, StatusCode: 404, Description: UserNotProjected}, wrongURL},
		"secret not projected":     {Answer{Endpoint: EndpointToken, StatusCode: 400, Description: SecretNotProjected}, secretMissing},
		"wrong secret":             {Answer{Endpoint: EndpointToken, StatusCode: 400, Description: "Errors.User.Machine.Secret.Invalid"}, secretInvalid},
		"deactivated":              {Answer{Endpoint: EndpointToken, StatusCode: 400, Description: "Errors.User.NotActive"}, notActive},
		"unknown host, discovery":  {Answer{StatusCode: 404, Description: "Instance not found"}, wrongHost},
		"404, discovery":           {Answer{StatusCode: 404}, wrongURL},
		"userinfo 401":             {Answer{Endpoint: EndpointUserinfo, StatusCode: 401}, tokenRejected},
		"introspection 401":        {Answer{Endpoint: EndpointIntrospection, StatusCode: 401}, introspectAuth},
		"introspection bad client": {Answer{Endpoint: EndpointIntrospection, StatusCode: 400, Code: "invalid_client"}, introspectAuth},
		"token 401":                {Answer{Endpoint: EndpointToken, StatusCode: 401, Code: "invalid_client"}, ""},
		"introspection 500":        {Answer{Endpoint: EndpointIntrospection, StatusCode: 500, Code: "server_error"}, ""},
		"discovery 503":            {Answer{StatusCode: 503}, ""},
	}
	for name, tc := range cases {
		assert.Equal(t, tc.want, For(tc.a), name)
	}
}

// TestHintNamesClockDrift: a refused assertion's hint leads with the clock
// offset the answer's Date shows, once it exceeds half the backdating;
// other hints, and answers without a Date or a send time, name none.
func TestHintNamesClockDrift(t *testing.T) {
	sent := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	refused := func(serverOffset time.Duration) Answer {
		return Answer{Endpoint: EndpointToken, Grant: assertion.GrantType, StatusCode: 400, Code: "invalid_grant",
			Date: sent.Add(serverOffset).Format(http.TimeFormat), Sent: sent}
	}
	assert.Equal(t, "ZITADEL's clock is 2m0s ahead of this machine's (its Date header); "+invalidGrant, For(refused(2*time.Minute)))
	assert.Equal(t, "this machine's clock is 45s ahead of ZITADEL's (its Date header); assertions are backdated by 1m0s only; "+invalidGrant,
		For(refused(-45*time.Second)))
	assert.Equal(t, invalidGrant, For(refused(25*time.Second)), "within half the backdating")
	noSent := refused(time.Hour)
	noSent.Sent = time.Time{}
	assert.Equal(t, invalidGrant, For(noSent))
	noDate := refused(time.Hour)
	noDate.Date = ""
	assert.Equal(t, invalidGrant, For(noDate))
	other := refused(time.Hour)
	other.Grant = clientCredentials
	assert.Equal(t, "", For(other), "no drift named without an assertion")
}

func TestNotProjected(t *testing.T) {
	assert.True(t, NotProjected(EndpointToken, "x "+SecretNotProjected+" y"))
	assert.True(t, NotProjected(EndpointToken, UserNotProjected))
	assert.False(t, NotProjected(EndpointUserinfo, UserNotProjected), "only the token endpoint's answers heal so")
	assert.False(t, NotProjected(EndpointToken, "Errors.User.NotActive"))
}
