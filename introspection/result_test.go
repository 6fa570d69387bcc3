package introspection_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/introspection"
)

// A handler that changes the Result it was given must not change what
// other requests with the same token see, from the cache or from a request
// they shared.
func TestResultsAreNotShared(t *testing.T) {
	_, in, token, user, _ := introspectionSetup(t)
	first, err := in.Introspect(context.Background(), token)
	require.NoError(t, err)
	first.Subject = "changed"
	first.Audience = append(first.Audience[:0], "changed")

	second, err := in.Introspect(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, user.UserID, second.Subject)
	assert.NotContains(t, second.Audience, "changed")

	// Concurrent handlers changing their own copy: no data race.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			r, err := in.Introspect(context.Background(), token)
			if assert.NoError(t, err) {
				r.Scope += " more"
			}
		})
	}
	wg.Wait()
}

// TestInactiveResultCarriesNothingElse: what a server says of a token it
// reports inactive (RFC 7662 has it say nothing) reaches no caller, and the
// cache keeps none of it, however large.
func TestInactiveResultCarriesNothingElse(t *testing.T) {
	aud := make([]string, 20000)
	for i := range aud {
		aud[i] = fmt.Sprint("urn:zitadel:iam:org:project:id:", i, ":aud")
	}
	answer, err := json.Marshal(map[string]any{"active": false, "sub": "user-1", "scope": "openid admin", "aud": aud,
		"client_id": "client-1", "username": "admin", "exp": 4102444800})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle(discoveryPath, discoveryHandler(nil))
	mux.HandleFunc("/oauth/v2/introspect", func(w http.ResponseWriter, _ *http.Request) { w.Write(answer) })
	in, err := introspection.Config{Key: applicationKey(t), Issuer: fakeIssuer, HTTPClient: newInProcess(mux).client()}.
		NewIntrospector(context.Background())
	require.NoError(t, err)
	for range 2 { // from the request, then from the cache
		r, err := in.Introspect(context.Background(), "revoked-token")
		require.NoError(t, err)
		assert.Equal(t, &introspection.Result{}, r)
	}
}
