package conformance

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
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
	b, ok := payload.([]byte)
	if !ok {
		var err error
		b, err = json.Marshal(payload)
		require.NoError(e.t, err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	require.NoError(e.t, err)
	jws, err := signer.Sign(b)
	require.NoError(e.t, err)
	s, err := jws.CompactSerialize()
	require.NoError(e.t, err)
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

// decisionRow is one variant of the token request.
type decisionRow struct {
	name   string
	phase  time.Duration // where in its second the servers' clock is
	accept bool          // ZITADEL's decision
	req    func(e *rowEnv) url.Values
}

var decisionTable = []decisionRow{
	// Audience.
	{"RS256, aud string", 0, true, func(e *rowEnv) url.Values { return e.good(e.claims()) }},
	{"aud array [issuer]", 0, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("aud", []string{e.issuer})) }},
	{"aud array [other, issuer]", 0, true, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("aud", []string{"https://other.example", e.issuer}))
	}},
	{"aud array without issuer", 0, false, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("aud", []string{"https://other.example", e.issuer + "/oauth/v2/token"}))
	}},
	{"aud issuer + trailing slash", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("aud", e.issuer+"/")) }},
	{"aud token endpoint", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("aud", e.issuer+"/oauth/v2/token")) }},
	{"aud a number", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("aud", 42)) }},
	{"aud missing", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().without("aud")) }},

	// Who signs: kid, iss, sub.
	{"kid unknown", 0, false, func(e *rowEnv) url.Values { return bearerForm(e.sign(jose.RS256, e.rsaKey, "123456789", e.claims())) }},
	{"kid missing", 0, false, func(e *rowEnv) url.Values { return bearerForm(e.sign(jose.RS256, e.rsaKey, "", e.claims())) }},
	{"kid of another user", 0, false, func(e *rowEnv) url.Values {
		return bearerForm(e.sign(jose.RS256, e.otherKey, e.otherKeyID, e.claims()))
	}},
	{"unknown user (iss=sub)", 0, false, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("iss", "100000000000000001", "sub", "100000000000000001"))
	}},
	{"other user's iss=sub, own kid", 0, false, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("iss", e.otherUserID, "sub", e.otherUserID))
	}},
	{"iss != sub", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("sub", e.otherUserID)) }},
	{"sub missing", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().without("sub")) }},

	// exp, with the server clock at a whole second S.
	{"exp missing", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().without("exp")) }},
	{"exp 10 s past", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(-10))) }},
	{"exp = now", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(0))) }},
	{"exp = now+1s", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(1))) }},
	{"exp = now+2s", 0, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(2))) }},
	{"exp 2 h after iat", 0, true, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("iat", e.at(-10), "exp", e.at(-10+7200)))
	}},
	{"exp float now+1.9s (truncated)", 0, false, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("exp", float64(e.at(1))+0.9))
	}},

	// iat.
	{"iat missing", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().without("iat")) }},
	{"iat = now+1s", 0, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(1))) }},
	{"iat = now+2s", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(2))) }},
	{"iat float now+1.9s (truncated)", 0, true, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("iat", float64(e.at(1))+0.9))
	}},
	{"iat 59 min old", 0, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-59*60))) }},
	{"iat 60 min old", 0, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-3600))) }},
	{"iat 60 min 1 s old", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-3601))) }},
	{"iat 61 min old", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-61*60))) }},

	// Other claim encodings.
	{"times as floats", 0, true, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("iat", float64(e.at(-10))+0.75, "exp", float64(e.at(600))+0.5))
	}},
	{"times as RFC 3339 strings", 0, true, func(e *rowEnv) url.Values {
		rfc := func(u int64) string { return time.Unix(u, 0).UTC().Format(time.RFC3339) }
		return e.good(e.claims().with("iat", rfc(e.at(-10)), "exp", rfc(e.at(600))))
	}},
	{"time as a bool", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", true)) }},
	{"nbf in the future (ignored)", 0, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("nbf", e.at(300))) }},
	{"payload a JSON array", 0, false, func(e *rowEnv) url.Values {
		return bearerForm(e.sign(jose.RS256, e.rsaKey, e.keyID, []byte(`["not","an","object"]`)))
	}},

	// Signature.
	{"PS256", 0, true, func(e *rowEnv) url.Values { return bearerForm(e.sign(jose.PS256, e.rsaKey, e.keyID, e.claims())) }},
	{"ES256 (P-256 key)", 0, true, func(e *rowEnv) url.Values { return bearerForm(e.sign(jose.ES256, e.ecKey, e.ecKeyID, e.claims())) }},
	{"RS384", 0, false, func(e *rowEnv) url.Values { return bearerForm(e.sign(jose.RS384, e.rsaKey, e.keyID, e.claims())) }},
	{"RS512", 0, false, func(e *rowEnv) url.Values { return bearerForm(e.sign(jose.RS512, e.rsaKey, e.keyID, e.claims())) }},
	{"HS256", 0, false, func(e *rowEnv) url.Values {
		return bearerForm(e.sign(jose.HS256, []byte("0123456789abcdef0123456789abcdef"), e.keyID, e.claims()))
	}},
	{"alg none", 0, false, func(e *rowEnv) url.Values {
		header, _ := json.Marshal(map[string]string{"alg": "none", "kid": e.keyID, "typ": "JWT"})
		payload, _ := json.Marshal(e.claims())
		return bearerForm(b64url(header) + "." + b64url(payload) + ".")
	}},
	{"signed with another private key", 0, false, func(e *rowEnv) url.Values {
		return bearerForm(e.sign(jose.RS256, e.otherKey, e.keyID, e.claims()))
	}},
	{"RS256 under the EC key's kid", 0, false, func(e *rowEnv) url.Values {
		return bearerForm(e.sign(jose.RS256, e.rsaKey, e.ecKeyID, e.claims()))
	}},
	{"payload changed after signing", 0, false, func(e *rowEnv) url.Values {
		parts := strings.Split(e.rs256(e.claims()), ".")
		payload, _ := json.Marshal(e.claims().with("exp", e.at(601)))
		return bearerForm(parts[0] + "." + b64url(payload) + "." + parts[2])
	}},
	{"signature removed", 0, false, func(e *rowEnv) url.Values {
		parts := strings.Split(e.rs256(e.claims()), ".")
		return bearerForm(parts[0] + "." + parts[1] + ".")
	}},
	{"two segments", 0, false, func(e *rowEnv) url.Values {
		parts := strings.Split(e.rs256(e.claims()), ".")
		return bearerForm(parts[0] + "." + parts[1])
	}},

	// The request around the assertion.
	{"grant_type client-assertion URN", 0, false, func(e *rowEnv) url.Values {
		f := e.good(e.claims())
		f.Set("grant_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		return f
	}},
	{"grant_type missing", 0, false, func(e *rowEnv) url.Values {
		f := e.good(e.claims())
		f.Del("grant_type")
		return f
	}},
	{"scope missing", 0, false, func(e *rowEnv) url.Values {
		f := e.good(e.claims())
		f.Del("scope")
		return f
	}},
	{"assertion missing", 0, false, func(e *rowEnv) url.Values {
		f := e.good(e.claims())
		f.Del("assertion")
		return f
	}},

	// What the library signs, and a drifting client's version of it.
	{"library SignAssertion", 0, true, func(e *rowEnv) url.Values {
		a, err := serviceuser.SignAssertion(e.keyFile, e.issuer, 0)
		require.NoError(e.t, err)
		return bearerForm(a)
	}},
	{"library shape, client in sync", 0, true, func(e *rowEnv) url.Values { return e.good(e.libraryShaped(0)) }},
	{"library shape, client 30 s ahead", 0, true, func(e *rowEnv) url.Values { return e.good(e.libraryShaped(30)) }},
	{"library shape, client 30 s behind", 0, true, func(e *rowEnv) url.Values { return e.good(e.libraryShaped(-30)) }},
	{"library shape, client 61 s ahead", 0, true, func(e *rowEnv) url.Values { return e.good(e.libraryShaped(61)) }},
	{"library shape, client 62 s ahead", 0, false, func(e *rowEnv) url.Values { return e.good(e.libraryShaped(62)) }},
	{"library shape, client 58 min behind", 0, true, func(e *rowEnv) url.Values { return e.good(e.libraryShaped(-58 * 60)) }},
	{"library shape, client 59 min behind", 0, false, func(e *rowEnv) url.Values { return e.good(e.libraryShaped(-59 * 60)) }},

	// Server clock 0.25 s into its second: now+1s rounds down.
	{"@.25 iat S+1 (0.75 s ahead)", 250 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(1))) }},
	{"@.25 iat S+2 (1.75 s ahead)", 250 * time.Millisecond, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(2))) }},
	{"@.25 exp S+1 (0.75 s ahead)", 250 * time.Millisecond, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(1))) }},
	{"@.25 exp S+2 (1.75 s ahead)", 250 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(2))) }},
	{"@.25 iat S-3600 (3600.25 s old)", 250 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-3600))) }},

	// 0.5 s into its second: the rounding goes up, the tolerance is 1.5 s.
	{"@.5 iat S+1 (0.5 s ahead)", 500 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(1))) }},
	{"@.5 iat S+2 (1.5 s ahead)", 500 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(2))) }},
	{"@.5 iat S+3 (2.5 s ahead)", 500 * time.Millisecond, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(3))) }},
	{"@.5 iat S-3599 (3599.5 s old)", 500 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-3599))) }},
	{"@.5 iat S-3600 (3600.5 s old)", 500 * time.Millisecond, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-3600))) }},
	{"@.5 exp S+1 (0.5 s ahead)", 500 * time.Millisecond, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(1))) }},
	{"@.5 exp S+2 (1.5 s ahead)", 500 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(2))) }},

	// 0.75 s into its second.
	{"@.75 iat S+2 (1.25 s ahead)", 750 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(2))) }},
	{"@.75 iat S+3 (2.25 s ahead)", 750 * time.Millisecond, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(3))) }},
	{"@.75 exp S+2 (1.25 s ahead)", 750 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(2))) }},
	{"@.75 iat S-3600 (3600.75 s old)", 750 * time.Millisecond, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-3600))) }},
}

// rowOutcome is one server's answer to one row.
type rowOutcome struct {
	status int
	code   string // OAuth error code, "" when accepted
	reason string // why the server refused, "" when accepted or unknown
}

// oauthErrorBody is an OAuth 2.0 error body.
type oauthErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (o rowOutcome) accepted() bool { return o.status == http.StatusOK }

func (o rowOutcome) String() string {
	if o.accepted() {
		return "accept"
	}
	return fmt.Sprintf("reject %d %s", o.status, o.code)
}

// rowResult is one row's outcomes.
type rowResult struct {
	row                decisionRow
	sut, ref, provider rowOutcome
}

// problems lists how a result departs from ZITADEL's decision or how the
// servers disagree.
func (r rowResult) problems() []string {
	var p []string
	want := r.row.accept
	for _, s := range []struct {
		name string
		o    rowOutcome
	}{{"serviceusertest", r.sut}, {"referee", r.ref}, {"provider", r.provider}} {
		if s.o.accepted() != want {
			p = append(p, fmt.Sprintf("%s: %v, want accept=%v", s.name, s.o, want))
		}
	}
	if r.sut.status != r.ref.status || r.sut.code != r.ref.code {
		p = append(p, fmt.Sprintf("answer: serviceusertest %v, referee %v", r.sut, r.ref))
	}
	if r.sut.reason != r.ref.reason {
		p = append(p, fmt.Sprintf("reason: serviceusertest %q, referee %q", r.sut.reason, r.ref.reason))
	}
	return p
}

// checkerErrors pairs the checker's errors with serviceusertest's: the same
// wording, so a refusal's reason prints the same from both.
var checkerErrors = [][2]error{
	{oidc.ErrParse, serviceusertest.ErrParse},
	{oidc.ErrAudience, serviceusertest.ErrAudience},
	{oidc.ErrExpired, serviceusertest.ErrExpired},
	{oidc.ErrIatMissing, serviceusertest.ErrIatMissing},
	{oidc.ErrIatInFuture, serviceusertest.ErrIatInFuture},
	{oidc.ErrIatToOld, serviceusertest.ErrIatTooOld},
	{oidc.ErrSubjectInvalid, serviceusertest.ErrSubjectInvalid},
	{oidc.ErrSignatureUnsupportedAlg, serviceusertest.ErrSignatureUnsupportedAlg},
	{oidc.ErrSignatureMissing, serviceusertest.ErrSignatureMissing},
	{oidc.ErrSignatureMultiple, serviceusertest.ErrSignatureMultiple},
	{oidc.ErrSignatureInvalid, serviceusertest.ErrSignatureInvalid},
	{oidc.ErrSignatureInvalidPayload, serviceusertest.ErrSignatureInvalidPayload},
}

// refusalReason names a refusal by the checker error it matches (side 0: the
// checker's, 1: serviceusertest's); a refusal of the request itself by its
// OAuth error code; anything else, such as claims that do not decode, as
// "undecodable claims".
func refusalReason(err error, side int, code string) string {
	if err == nil {
		return ""
	}
	for _, pair := range checkerErrors {
		if errors.Is(err, pair[side]) {
			return pair[0].Error()
		}
	}
	if code != "server_error" {
		return code
	}
	return "undecodable claims"
}

// tableTarget is a server the rows are sent to.
type tableTarget struct {
	issuer, tokenURL string
	// lastRejection returns the reason recorded for the last refused request.
	lastRejection func() error
}

func sendRow(t testing.TB, client *http.Client, tg tableTarget, f url.Values, side int) rowOutcome {
	t.Helper()
	resp, err := client.PostForm(tg.tokenURL, f)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	o := rowOutcome{status: resp.StatusCode}
	if o.accepted() {
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		require.NoError(t, json.Unmarshal(body, &tok), "%s", body)
		require.NotEmpty(t, tok.AccessToken)
		return o
	}
	var e oauthErrorBody
	_ = json.Unmarshal(body, &e)
	o.code = e.Error
	if side >= 0 {
		o.reason = refusalReason(tg.lastRejection(), side, o.code)
	}
	return o
}

func lastError(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[len(errs)-1]
}

// rowIDs are the IDs a server knows rowEnv's keys by.
type rowIDs struct {
	userID, keyID, ecKeyID, otherUserID, otherKeyID string
}

// enrolRowKeys registers the keys of the user and of the other user on srv.
func enrolRowKeys(srv *serviceusertest.Server, user, other crypto.PublicKey, ec *ecdsa.PublicKey) rowIDs {
	var ids rowIDs
	ids.userID, ids.keyID = enrol(srv, user)
	ids.ecKeyID = srv.AddKey(ids.userID, ec)
	ids.otherUserID, ids.otherKeyID = enrol(srv, other)
	return ids
}

// keys shared by all phases; generating RSA keys is the slow part.
type tableKeys struct {
	rsaOther *rsa.PrivateKey
	ec       *ecdsa.PrivateKey
}

// runPhase runs rows, all of the same phase, in a synctest bubble whose clock
// stands phase into a second while the servers answer.
func runPhase(t *testing.T, keys tableKeys, phase time.Duration, rows []decisionRow, refOpts ...RefereeOption) []rowResult {
	var results []rowResult
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(phase) // before any server starts: afterwards the clock stands still
		now := time.Now()
		require.Equal(t, phase, now.Sub(now.Truncate(time.Second)), "the bubble's clock starts at a whole second")

		sut := serviceusertest.NewServer(serviceusertest.WithECKeys())
		defer sut.Close()
		ref := newReferee(t, refOpts...)
		prov := newProviderReferee(t, sut.LookupKey) // the keys of sut, under the same IDs
		client := &http.Client{Transport: &http.Transport{}}
		defer client.CloseIdleConnections()

		user := sut.NewServiceUser()
		other := sut.NewServiceUser()
		rsaKey, ok := user.PrivateKey.(*rsa.PrivateKey)
		require.True(t, ok)
		keyFile, err := serviceuser.ParseKeyFile(user.KeyFile)
		require.NoError(t, err)
		sutIDs := rowIDs{user.UserID, user.KeyID, sut.AddKey(user.UserID, &keys.ec.PublicKey), other.UserID, other.KeyID}
		refIDs := enrolRowKeys(ref, user.PrivateKey.Public(), other.PrivateKey.Public(), &keys.ec.PublicKey)
		newEnv := func(issuer string, ids rowIDs) *rowEnv {
			kf := *keyFile
			kf.UserID, kf.KeyID = ids.userID, ids.keyID
			return &rowEnv{
				t: t, issuer: issuer, s: now.Truncate(time.Second).Unix(),
				userID: ids.userID, keyID: ids.keyID, rsaKey: rsaKey,
				ecKeyID: ids.ecKeyID, ecKey: keys.ec,
				otherUserID: ids.otherUserID, otherKeyID: ids.otherKeyID, otherKey: keys.rsaOther,
				keyFile: &kf,
			}
		}
		sutTarget := tableTarget{sut.Issuer(), sut.TokenURL(), func() error { return lastError(sut.Rejections()) }}
		refTarget := tableTarget{ref.Issuer(), ref.TokenURL(), func() error { return lastError(ref.Rejections()) }}
		provTarget := tableTarget{prov.Issuer(), prov.TokenURL(), nil}

		for _, r := range rows {
			res := rowResult{row: r}
			res.sut = sendRow(t, client, sutTarget, r.req(newEnv(sut.Issuer(), sutIDs)), 1)
			res.ref = sendRow(t, client, refTarget, r.req(newEnv(ref.Issuer(), refIDs)), 0)
			res.provider = sendRow(t, client, provTarget, r.req(newEnv(prov.Issuer(), sutIDs)), -1)
			results = append(results, res)
		}
		require.Equal(t, now, time.Now(), "the clock must not move while the servers answer")
	})
	return results
}

// runTable runs every row, grouped by phase.
func runTable(t *testing.T, rows []decisionRow, refOpts ...RefereeOption) []rowResult {
	keys := tableKeys{rsaOther: newRSAKey(t), ec: newECKey(t)}
	byPhase := map[time.Duration][]decisionRow{}
	for _, r := range rows {
		byPhase[r.phase] = append(byPhase[r.phase], r)
	}
	var results []rowResult
	for _, phase := range slices.Sorted(maps.Keys(byPhase)) {
		results = append(results, runPhase(t, keys, phase, byPhase[phase], refOpts...)...)
	}
	return results
}

func decisionWord(o rowOutcome) string {
	if o.accepted() {
		return "accept"
	}
	return "reject"
}

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
