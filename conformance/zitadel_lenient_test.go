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
// than its documentation: serviceusertest and the Referee (by default) follow
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
// sub = B, is then accepted, for B. serviceusertest and the default Referee
// refuse it ("delegation not allowed").
func TestZitadelSubjectCheck(t *testing.T) {
	sut := serviceusertest.NewServer()
	defer sut.Close()
	a, b := sut.NewServiceUser(), sut.NewServiceUser()
	stock := NewReferee(t)
	lookup := NewReferee(t, WithZitadelSubjectCheck())
	for _, ref := range []*Referee{stock, lookup} {
		ref.RegisterKey(a.UserID, a.KeyID, a.PrivateKey.Public())
		ref.RegisterKey(b.UserID, b.KeyID, b.PrivateKey.Public())
	}
	rsaKey, ok := a.PrivateKey.(*rsa.PrivateKey)
	require.True(t, ok)
	assertion := func(issuer, sub string) url.Values {
		e := &rowEnv{t: t, issuer: issuer, s: time.Now().Unix(), userID: a.UserID, keyID: a.KeyID, rsaKey: rsaKey}
		return bearerForm(e.rs256(e.claims().with("sub", sub)))
	}

	for _, tc := range []struct {
		name                    string
		sub                     string
		sutOK, stockOK, zitadel bool
	}{
		{"sub = iss", a.UserID, true, true, true},
		{"sub another user", b.UserID, false, false, true},
		{"sub unknown", "100000000000000001", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _ := postToken(t, sut.TokenURL(), assertion(sut.Issuer(), tc.sub))
			assert.Equal(t, tc.sutOK, status == http.StatusOK, "serviceusertest: %d", status)
			status, _ = postToken(t, stock.TokenURL(), assertion(stock.Issuer(), tc.sub))
			assert.Equal(t, tc.stockOK, status == http.StatusOK, "referee: %d", status)
			status, body := postToken(t, lookup.TokenURL(), assertion(lookup.Issuer(), tc.sub))
			require.Equal(t, tc.zitadel, status == http.StatusOK, "referee with ZITADEL's subject check: %d %s", status, body)
			if !tc.zitadel {
				assert.ErrorIs(t, lastError(lookup.Rejections()), ErrUserNotFound)
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
			assert.Equal(t, tc.sub, info.Subject, "the token is for sub, not for the key's owner")
		})
	}
	assert.ErrorIs(t, lastError(stock.Rejections()), oidc.ErrSubjectInvalid)
}

// TestBlankScope: ZITADEL refuses a token request without a scope parameter,
// but zitadel/oidc's form decoding turns "scope=" and "scope=  " into a
// non-empty list of empty scopes, which ZITADEL's scope check
// (op.ValidateAuthReqScopes, as called by ZITADEL) lets through: the
// ProviderReferee, which runs that code, issues a token without scopes.
// serviceusertest and the Referee refuse a blank scope as a missing one.
func TestBlankScope(t *testing.T) {
	sut := serviceusertest.NewServer()
	defer sut.Close()
	user := sut.NewServiceUser()
	key, err := serviceuser.ParseKeyFile(user.KeyFile)
	require.NoError(t, err)
	ref := NewReferee(t)
	ref.RegisterKeyFile(key)
	prov := NewProviderReferee(t)
	prov.RegisterKeyFile(key)

	request := func(issuer string, scope *string) url.Values {
		a, err := serviceuser.SignAssertion(key, issuer, 0)
		require.NoError(t, err)
		f := url.Values{"grant_type": {serviceuser.GrantTypeJWTBearer}, "assertion": {a}}
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
