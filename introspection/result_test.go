package introspection_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/introspection"
	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// A handler that changes the Result it was given must not change what
// other requests with the same token see, from the cache or from a request
// they shared.
func TestResultsAreNotShared(t *testing.T) {
	_, in, token, user, _ := introspectionSetup(t)
	first, err := in.Introspect(context.Background(), token)
	require.NoError(t, err)
	first.Subject = "changed"
	first.ResourceOwner.ID = "changed"
	first.Audience()[0] = "changed"

	second, err := in.Introspect(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, user.UserID, second.Subject)
	assert.NotContains(t, second.Audience(), "changed")

	// Concurrent handlers changing their own copy: no data race.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			r, err := in.Introspect(context.Background(), token)
			if assert.NoError(t, err) {
				r.Scope += " more"
				r.Audience()[0] = "changed"
				r.Claims()["sub"][1] = 'X'
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
		r, err := in.Introspect(context.Background(), opaqueToken("revoked-token"))
		require.NoError(t, err)
		assert.Equal(t, &introspection.Result{}, r)
	}
}

// TestResultFields: every field ZITADEL's answer has reaches the Result, the
// times as time.Time, the resource owner with the resourceowner scope, and
// the answer's members, as sent, in Claims.
func TestResultFields(t *testing.T) {
	srv := serviceusertest.NewServer()
	defer srv.Close()
	app := srv.NewApplication()
	before := time.Now().Truncate(time.Second)
	user, token := serviceUserToken(t, srv, "profile", scope.UserResourceOwner, app.AudienceScope())
	r := introspect(t, projectIntrospector(t, srv, app, app.ProjectID), token)

	require.True(t, r.Active)
	assert.Equal(t, user.UserID, r.Subject)
	assert.Equal(t, user.Username, r.Username)
	assert.Equal(t, "Bearer", r.TokenType)
	assert.NotEmpty(t, r.ClientID)
	assert.Equal(t, srv.Issuer(), r.Issuer)
	assert.Contains(t, r.Audience(), app.ProjectID)
	assert.Contains(t, r.Scope, scope.UserResourceOwner)
	assert.NotEmpty(t, r.JWTID)
	for name, at := range map[string]time.Time{"iat": r.IssuedAt, "nbf": r.NotBefore, "auth_time": r.AuthTime} {
		assert.False(t, at.Before(before), name)
		assert.False(t, at.After(time.Now()), name)
	}
	assert.WithinDuration(t, r.IssuedAt.Add(12*time.Hour), r.ExpiresAt, time.Minute, "ZITADEL's default lifetime")
	assert.Nil(t, r.Actor(), "no act claim")

	assert.Equal(t, user.OrgID, r.ResourceOwner.ID)
	assert.Equal(t, "ZITADEL", r.ResourceOwner.Name)
	assert.Contains(t, r.ResourceOwner.PrimaryDomain, "zitadel.")

	for _, name := range []string{"active", "aud", "auth_time", "client_id", "exp", "iat", "iss", "jti", "nbf", "scope", "sub", "token_type", "username",
		scope.UserResourceOwner + ":id", scope.UserResourceOwner + ":name", scope.UserResourceOwner + ":primary_domain"} {
		assert.Contains(t, r.Claims(), name)
	}
	assert.JSONEq(t, `"`+user.UserID+`"`, string(r.Claims()["sub"]))
	var exp int64
	require.NoError(t, json.Unmarshal(r.Claims()["exp"], &exp))
	assert.Equal(t, r.ExpiresAt.Unix(), exp)

	// Without the resourceowner scope: no resource owner.
	_, token = serviceUserToken(t, srv, app.AudienceScope())
	r = introspect(t, projectIntrospector(t, srv, app, ""), token)
	assert.Equal(t, introspection.Organization{}, r.ResourceOwner)
	assert.NotContains(t, r.Claims(), scope.UserResourceOwner+":id")
}

// TestResultDecoding: what json.Unmarshal makes of answers a fake cannot
// give: fractional and absent times, act, roles in the generic claim, and
// members of the wrong type, which make the answer unreadable.
func TestResultDecoding(t *testing.T) {
	var r introspection.Result
	require.NoError(t, json.Unmarshal([]byte(`{"active":true,"exp":1700000000.5,"iat":1700000000,"nbf":null,
		"act":{"sub":"admin-1","act":{"sub":"admin-0"}},"jti":"j1","x-custom":[1,2],
		"urn:zitadel:iam:org:project:roles":{"admin":{"o1":"one.example"}}}`), &r))
	assert.Equal(t, time.Unix(1700000000, 5e8), r.ExpiresAt)
	assert.Equal(t, time.Unix(1700000000, 0), r.IssuedAt)
	assert.True(t, r.NotBefore.IsZero(), "null")
	assert.True(t, r.AuthTime.IsZero(), "absent")
	assert.JSONEq(t, `{"sub":"admin-1","act":{"sub":"admin-0"}}`, string(r.Actor()))
	assert.Equal(t, "j1", r.JWTID)
	assert.JSONEq(t, `[1,2]`, string(r.Claims()["x-custom"]))
	assert.True(t, r.HasRoleInOrg("admin", "o1"))

	for _, body := range []string{
		`{"active":"true"}`,
		`{"active":true,"exp":"1700000000"}`,
		`{"active":true,"iat":1e300}`,
		`{"active":true,"sub":7}`,
		`{"active":true,"urn:zitadel:iam:user:resourceowner:id":7}`,
		`{"active":true,"urn:zitadel:iam:org:project:roles":["admin"]}`,
		`{"active":true,"urn:zitadel:iam:org:project:roles":{"admin":{"o1":1}}}`,
		`[]`,
	} {
		var r introspection.Result
		assert.Error(t, json.Unmarshal([]byte(body), &r), body)
	}

	// An inactive answer is read as nothing but inactive, whatever else it holds.
	r = introspection.Result{Subject: "left over"}
	require.NoError(t, json.Unmarshal([]byte(`{"active":false,"exp":"junk","sub":"user-1"}`), &r))
	assert.Equal(t, introspection.Result{}, r)
}

// A malformed answer is a *serviceuser.TokenError, never a Result.
func TestMalformedRolesAnswerIsAnError(t *testing.T) {
	in := fixedAnswerIntrospector(t, roleAnswer(`,"urn:zitadel:iam:org:project:p1:roles":{"admin":"o1"}`), "p1")
	r, err := in.Introspect(context.Background(), opaqueToken("token"))
	assert.Nil(t, r)
	var te *serviceuser.TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, serviceuser.EndpointIntrospection, te.Endpoint)
}

// Changing what a handler was given (roles, claims, act, audience), even
// through what its methods return, changes nothing for the next caller.
func TestResultDeepCopies(t *testing.T) {
	cfg := fixedAnswer(t, roleAnswer(`,"act":{"sub":"a"},"urn:zitadel:iam:org:project:roles":{"admin":{"o1":"one.example"}}`))
	cfg.CacheTTL = 0
	in, err := cfg.NewIntrospector(context.Background())
	require.NoError(t, err)
	first, err := in.Introspect(context.Background(), opaqueToken("token"))
	require.NoError(t, err)
	roles := first.Roles()
	roles["admin"]["o2"] = "two.example"
	roles["owner"] = nil
	claims := first.Claims()
	claims["sub"][1] = 'X'
	claims["new"] = nil
	sub, ok := first.Claim("sub")
	require.True(t, ok)
	sub[2] = 'X'
	first.Actor()[2] = 'X'
	first.Audience()[0] = "changed"

	// The cache's copy is untouched, however often it is handed out.
	for range 2 {
		second, err := in.Introspect(context.Background(), opaqueToken("token"))
		require.NoError(t, err)
		assert.Equal(t, map[string]map[string]string{"admin": {"o1": "one.example"}}, second.Roles())
		assert.False(t, second.HasRoleInOrg("admin", "o2"))
		assert.False(t, second.HasRole("owner"))
		assert.JSONEq(t, `"user-1"`, string(second.Claims()["sub"]))
		sub, ok := second.Claim("sub")
		assert.True(t, ok)
		assert.JSONEq(t, `"user-1"`, string(sub))
		assert.NotContains(t, second.Claims(), "new")
		assert.JSONEq(t, `{"sub":"a"}`, string(second.Actor()))
		assert.Equal(t, []string{"p1", "p2"}, second.Audience())
	}
	_, ok = first.Claim("absent")
	assert.False(t, ok)
}
