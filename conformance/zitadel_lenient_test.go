package conformance

import (
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// The tests in this file record where ZITADEL's server code is more lenient
// than its documentation: serviceusertest and the referee (by default) follow
// the documentation, and the library never sends such requests. They fail if
// any side changes, so that the difference stays known.

// postToken sends f to tokenURL and returns the status and body.
func postToken(t *testing.T, tokenURL string, f url.Values) (int, []byte) {
	t.Helper()
	resp, err := http.PostForm(tokenURL, f)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

// TestZitadelSubjectCheck: ZITADEL replaces the checker's iss == sub rule by
// a lookup of the user named in "sub" (op.SubjectCheck), while the key is
// looked up by (kid, iss). An assertion signed with user A's key, iss = A and
// sub = B, is then accepted, for B. serviceusertest and the default referee
// refuse it ("delegation not allowed").
func TestZitadelSubjectCheck(t *testing.T) {
	sut := serviceusertest.NewServer()
	defer sut.Close()
	a, b := sut.NewServiceUser(), sut.NewServiceUser()
	stock := newReferee(t)
	lookup := newReferee(t, WithZitadelSubjectCheck())
	// users are A, A's key and B under the IDs each server gave them.
	type users struct{ a, aKey, b string }
	ids := map[*serviceusertest.Server]users{sut: {a.UserID, a.KeyID, b.UserID}}
	for _, ref := range []*serviceusertest.Server{stock, lookup} {
		var u users
		u.a, u.aKey = enrol(ref, a.PrivateKey.Public())
		u.b, _ = enrol(ref, b.PrivateKey.Public())
		ids[ref] = u
	}
	rsaKey, ok := a.PrivateKey.(*rsa.PrivateKey)
	require.True(t, ok)
	post := func(srv *serviceusertest.Server, sub func(users) string) (int, []byte) {
		u := ids[srv]
		e := &rowEnv{t: t, issuer: srv.Issuer(), s: time.Now().Unix(), userID: u.a, keyID: u.aKey, rsaKey: rsaKey}
		return postToken(t, srv.TokenURL(), bearerForm(e.rs256(e.claims().with("sub", sub(u)))))
	}

	for _, tc := range []struct {
		name                    string
		sub                     func(users) string
		sutOK, stockOK, zitadel bool
	}{
		{"sub = iss", func(u users) string { return u.a }, true, true, true},
		{"sub another user", func(u users) string { return u.b }, false, false, true},
		{"sub unknown", func(users) string { return "100000000000000001" }, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _ := post(sut, tc.sub)
			assert.Equal(t, tc.sutOK, status == http.StatusOK, "serviceusertest: %d", status)
			status, _ = post(stock, tc.sub)
			assert.Equal(t, tc.stockOK, status == http.StatusOK, "referee: %d", status)
			status, body := post(lookup, tc.sub)
			require.Equal(t, tc.zitadel, status == http.StatusOK, "referee with ZITADEL's subject check: %d %s", status, body)
			if !tc.zitadel {
				assert.ErrorIs(t, lastError(lookup.Rejections()), serviceusertest.ErrUserNotFound)
				return
			}
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			require.NoError(t, json.Unmarshal(body, &tok))
			req, err := http.NewRequest(http.MethodGet, lookup.UserinfoURL(), nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			var info struct {
				Subject string `json:"sub"`
			}
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&info))
			assert.Equal(t, tc.sub(ids[lookup]), info.Subject, "the token is for sub, not for the key's owner")
		})
	}
	assert.ErrorIs(t, lastError(stock.Rejections()), oidc.ErrSubjectInvalid)
}

// TestBlankScope: ZITADEL refuses a token request without a scope parameter,
// but zitadel/oidc's form decoding turns "scope=" and "scope=  " into a
// non-empty list of empty scopes, which ZITADEL's scope check
// (op.ValidateAuthReqScopes, as called by ZITADEL) lets through: the
// ProviderReferee, which runs that code, issues a token without scopes.
// serviceusertest, and so the referee, refuse a blank scope as a missing one.
func TestBlankScope(t *testing.T) {
	sut := serviceusertest.NewServer()
	defer sut.Close()
	user := sut.NewServiceUser()
	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	require.NoError(t, err)
	ref := newReferee(t)
	refKey := enrolKey(ref, key)
	prov := newProviderReferee(t, sut.LookupKey)

	request := func(issuer string, scope *string) url.Values {
		k := key
		if issuer == ref.Issuer() {
			k = refKey
		}
		a, err := serviceuser.SignAssertion(k, issuer, 0)
		require.NoError(t, err)
		f := url.Values{"grant_type": {serviceusertest.GrantTypeJWTBearer}, "assertion": {a}}
		if scope != nil {
			f.Set("scope", *scope)
		}
		return f
	}
	empty, blank := "", "  "
	for _, tc := range []struct {
		name       string
		scope      *string
		providerOK bool
	}{
		{"absent", nil, false},
		{"empty", &empty, true},
		{"blank", &blank, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postToken(t, sut.TokenURL(), request(sut.Issuer(), tc.scope))
			assert.Equal(t, http.StatusBadRequest, status, "serviceusertest: %s", body)
			status, body = postToken(t, ref.TokenURL(), request(ref.Issuer(), tc.scope))
			assert.Equal(t, http.StatusBadRequest, status, "referee: %s", body)
			status, body = postToken(t, prov.TokenURL(), request(prov.Issuer(), tc.scope))
			assert.Equal(t, tc.providerOK, status == http.StatusOK, "provider: %d %s", status, body)
		})
	}
}
