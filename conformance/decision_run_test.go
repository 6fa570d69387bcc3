package conformance

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

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
