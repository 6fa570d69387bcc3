package conformance

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// The decision table sends hand-made token requests to serviceusertest, to
// the referee (serviceusertest with ZITADEL's checker plugged in) and to the
// ProviderReferee (zitadel/oidc's own provider), and requires the same
// decision from all three, and the one ZITADEL makes.
//
// The checker rounds "now + 1 s" to the second, so decisions near a second
// boundary depend on where in its second the server clock is. Each group of
// rows runs in a testing/synctest bubble: the fake clock there starts at a
// whole second (2000-01-01T00:00:00Z) and stands still while requests are
// served, so "phase" puts the servers' clock at an exact point in its second
// and every boundary case is decided the same way on every run.

// assertionClaims is an assertion payload; values may be of any JSON type.
type assertionClaims map[string]any

func (c assertionClaims) with(kv ...any) assertionClaims {
	out := maps.Clone(c)
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func (c assertionClaims) without(keys ...string) assertionClaims {
	out := maps.Clone(c)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// rowEnv is what a row builds its request from, for one server.
type rowEnv struct {
	t      testing.TB
	issuer string // the server's issuer
	s      int64  // the server clock's current whole second (Unix)

	userID, keyID string          // a registered RSA key
	rsaKey        *rsa.PrivateKey // its private half
	ecKeyID       string          // a registered P-256 key of the same user
	ecKey         *ecdsa.PrivateKey
	otherUserID   string          // a second registered user
	otherKeyID    string          // and its key
	otherKey      *rsa.PrivateKey // an RSA key no server knows
	keyFile       *serviceuser.KeyFile
}

// at returns the Unix time k seconds after the start of the server's current second.
func (e *rowEnv) at(k int64) int64 { return e.s + k }

// claims are a valid assertion's claims: iat 10 s ago, exp in 10 minutes.
func (e *rowEnv) claims() assertionClaims {
	return assertionClaims{"iss": e.userID, "sub": e.userID, "aud": e.issuer, "iat": e.at(-10), "exp": e.at(600)}
}

func (e *rowEnv) sign(alg jose.SignatureAlgorithm, key any, kid string, payload any) string {
	e.t.Helper()
	return signJWT(e.t, alg, key, kid, payload)
}

// signJWT is payload (JSON-encoded unless it is []byte) signed compact with
// alg by key, naming kid in the header unless it is empty.
func signJWT(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, payload any) string {
	t.Helper()
	b, ok := payload.([]byte)
	if !ok {
		var err error
		b, err = json.Marshal(payload)
		require.NoError(t, err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	require.NoError(t, err)
	jws, err := signer.Sign(b)
	require.NoError(t, err)
	s, err := jws.CompactSerialize()
	require.NoError(t, err)
	return s
}

// rs256 signs c with the user's RSA key under its kid.
func (e *rowEnv) rs256(c assertionClaims) string { return e.sign(jose.RS256, e.rsaKey, e.keyID, c) }

func bearerForm(assertion string) url.Values {
	return url.Values{"grant_type": {serviceusertest.GrantTypeJWTBearer}, "assertion": {assertion}, "scope": {"openid"}}
}

func (e *rowEnv) good(c assertionClaims) url.Values { return bearerForm(e.rs256(c)) }

// libraryShaped are the claims the library signs, for a client clock that is
// drift ahead of the server's: iat backdated by 60 s, exp one hour after iat,
// aud an array, a jti.
func (e *rowEnv) libraryShaped(drift int64) assertionClaims {
	iat := e.at(drift - 60)
	return assertionClaims{"iss": e.userID, "sub": e.userID, "aud": []string{e.issuer}, "iat": iat, "exp": iat + 3600, "jti": "3f1c2b0e9d8a7f6e5d4c3b2a19081726"}
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestDecisionTable(t *testing.T) {
	require.GreaterOrEqual(t, len(decisionTable), 25)
	results := runTable(t, decisionTable)
	require.Len(t, results, len(decisionTable))

	var table strings.Builder
	fmt.Fprintf(&table, "\n%-38s %-8s %-34s %-34s %-8s %s\n", "variant", "expected", "serviceusertest", "referee", "provider", "reason (serviceusertest = referee)")
	agree := 0
	for _, r := range results {
		want := "reject"
		if r.row.accept {
			want = "accept"
		}
		fmt.Fprintf(&table, "%-38s %-8s %-34v %-34v %-8s %s\n", r.row.name, want, r.sut, r.ref, decisionWord(r.provider), r.ref.reason)
		if p := r.problems(); len(p) > 0 {
			t.Errorf("%s: %s", r.row.name, strings.Join(p, "; "))
			continue
		}
		agree++
	}
	fmt.Fprintf(&table, "agreements: %d/%d", agree, len(results))
	t.Log(table.String())
}

// TestDecisionTableNoticesALenientChecker runs the table against a referee
// whose checker tolerates 2 s instead of 1 s: the rows at the tolerance's
// edges must then show disagreements, so a fake with the wrong tolerance
// could not pass TestDecisionTable.
func TestDecisionTableNoticesALenientChecker(t *testing.T) {
	results := runTable(t, decisionTable, WithLeeway(2*time.Second))
	var flagged []string
	for _, r := range results {
		if len(r.problems()) > 0 {
			flagged = append(flagged, r.row.name)
		}
	}
	// A larger tolerance accepts iat further ahead, and refuses exp sooner.
	for _, name := range []string{"exp = now+2s", "iat = now+2s", "@.5 iat S+3 (2.5 s ahead)", "library shape, client 62 s ahead"} {
		assert.Contains(t, flagged, name)
	}
	assert.NotContains(t, flagged, "RS256, aud string")
	t.Logf("rows flagged against a 2 s tolerance: %d: %s", len(flagged), strings.Join(flagged, ", "))
}

// TestRefereeRejectsBrokenGrantType pins the grant type the library sends to
// zitadel/oidc's, and shows that the referee refuses the client-assertion URN
// (which an old tutorial shows as a grant type) for an otherwise good request.
func TestRefereeRejectsBrokenGrantType(t *testing.T) {
	require.Equal(t, string(oidc.GrantTypeBearer), serviceusertest.GrantTypeJWTBearer)
	require.Equal(t, string(oidc.GrantTypeBearer), serviceusertest.GrantTypeJWTBearer)
	require.NotEqual(t, oidc.ClientAssertionTypeJWTAssertion, serviceusertest.GrantTypeJWTBearer)

	ref := newReferee(t)
	_, pemKey := keyKinds[0].make(t)
	key, err := serviceuser.ParseKeyFile(keyFileJSON(t, randomID(t), randomID(t), pemKey))
	require.NoError(t, err)
	key = enrolKey(ref, key)

	post := func(grantType string) (int, oauthErrorBody) {
		assertion, err := serviceuser.SignAssertion(key, ref.Issuer(), 0)
		require.NoError(t, err)
		resp, err := ref.Client().PostForm(ref.TokenURL(), url.Values{
			"grant_type": {grantType}, "assertion": {assertion}, "scope": {"openid"},
		})
		require.NoError(t, err)
		defer resp.Body.Close()
		var e oauthErrorBody
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
		return resp.StatusCode, e
	}

	status, e := post(oidc.ClientAssertionTypeJWTAssertion)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, string(oidc.UnsupportedGrantType), e.Error)
	assert.Zero(t, ref.IssuedTokens())

	status, e = post(serviceusertest.GrantTypeJWTBearer)
	assert.Equal(t, http.StatusOK, status, "%+v", e)
	assert.Equal(t, 1, ref.IssuedTokens())
}
