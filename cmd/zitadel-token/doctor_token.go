package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/scope"
)

// checkCredential loads the credential and checks what can be checked
// without the server; nil when it cannot be used.
func (o *doctorOptions) checkCredential(r *report, x *invocation, mode string) *credential {
	var cred *credential
	var err error
	switch mode {
	case modeKey:
		return o.checkKey(r)
	case modeClient:
		cred, err = o.clientCredential(x)
	default:
		cred, err = o.patCredential(x)
	}
	if err != nil {
		r.line(statusFail, "credential", "%v", withheld(err, x.secrets))
		return nil
	}
	what := map[string]string{modeClient: "client secret of " + cred.id, modePAT: "personal access token"}[mode]
	r.line(statusOK, "credential", "%s read", what)
	return cred
}

// keyExpiryWarning is how soon before a key's expiry doctor says so.
const keyExpiryWarning = 14 * 24 * time.Hour

// checkKey checks the key file: its type, its expiry and its kind.
func (o *doctorOptions) checkKey(r *report) *credential {
	const check = "key"
	if err := o.check(); err != nil {
		r.line(statusFail, check, "%v", err)
		return nil
	}
	key, err := o.load()
	switch {
	case err != nil:
		r.line(statusFail, check, "%v", err)
		return nil
	case key.Type != serviceuser.KeyTypeServiceAccount:
		r.line(statusFail, check, "this is a key of type %q: it checks tokens (introspect, -app-key), it cannot get one; "+
			"download a key of the service user (type %q)", key.Type, serviceuser.KeyTypeServiceAccount)
		return nil
	case key.CheckExpiry(time.Now()) != nil:
		r.line(statusFail, check, "key %s expired on %s: add a new key to the service user", key.KeyID,
			key.ExpirationDate.UTC().Format(time.RFC3339))
		return nil
	case !strings.HasPrefix(key.KeyDescription(), "RSA"):
		r.line(statusFail, check, "key %s is %s: ZITADEL verifies RSA keys only for service users; "+
			"download a key made by ZITADEL", key.KeyID, key.KeyDescription())
		return nil
	}
	expiry := "no expiry"
	if !key.ExpirationDate.IsZero() {
		expiry = "expires " + key.ExpirationDate.UTC().Format(time.RFC3339)
		if time.Until(key.ExpirationDate) < keyExpiryWarning {
			expiry += ", soon: add a new key before then"
		}
	}
	r.line(statusOK, check, "service user %s, key %s, %s, %s", key.UserID, key.KeyID, key.KeyDescription(), expiry)
	return o.newKeyCredential(key)
}

// checkTokens asks for a token with openid alone, then with each scope,
// and returns a token with every scope, or nil. discovered is false when
// the discovery check failed: the token endpoint is then unknown unless
// -token-url names it.
func (o *doctorOptions) checkTokens(ctx context.Context, r *report, x *invocation, cred *credential, discovered bool) *oauth2.Token {
	scopes := o.scopeValues()
	switch {
	case cred == nil:
		r.line(statusSkip, "token", "no usable credential")
		return nil
	case cred.mode == modePAT:
		r.line(statusSkip, "token", "a personal access token is used as it is: its scopes were set when it was made")
		tok, _ := cred.token(ctx, scopes)
		return tok
	case !discovered && o.tokenURL == "":
		r.line(statusSkip, "token", "no token request sent: the token endpoint is found by discovery, which failed "+
			"(fix discovery, or give -token-url)")
		return nil
	}
	tok, err := cred.token(ctx, []string{"openid"})
	if err != nil {
		o.tokenFailed(r, x, "token", "a token with the scope openid alone", err)
		return nil
	}
	r.line(statusOK, "token", "a token with the scope openid")
	extra := slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return s == "openid" })
	for _, s := range extra {
		if tok, err = cred.token(ctx, []string{"openid", s}); err != nil {
			o.tokenFailed(r, x, "scope", "the scope "+s, err)
			return nil
		}
		r.line(statusOK, "scope", "%s granted", s)
	}
	if len(extra) > 1 || !slices.Contains(scopes, "openid") {
		if tok, err = cred.token(ctx, scopes); err != nil {
			o.tokenFailed(r, x, "scopes", "the scopes together", err)
			return nil
		}
		r.line(statusOK, "scopes", "all requested scopes together")
	}
	return tok
}

// tokenFailed reports a token request that failed: refused names what
// ZITADEL refused, for an answer that refuses it. An error before the
// request, or with no answer, is not called a refusal.
func (o *doctorOptions) tokenFailed(r *report, x *invocation, check, refused string, err error) {
	err = withheld(o.explain(err), x.secrets)
	var (
		de *serviceuser.DiscoveryError
		te *serviceuser.TokenError
		ee *explainedError
	)
	switch {
	case errors.As(err, &de):
		r.line(statusFail, check, "no token request was sent: finding the token endpoint by discovery failed: %v", err)
	case errors.As(err, &ee):
		r.line(statusFail, check, "%v", err)
	case errors.As(err, &te) && te.StatusCode != 0:
		r.line(statusFail, check, "ZITADEL refused %s: %v", refused, err)
	case errors.As(err, &te) || isNetworkError(err):
		r.line(statusFail, check, "no answer from the token endpoint: %v", err)
	default:
		r.line(statusFail, check, "asking for %s failed: %v", refused, err)
	}
}

// checkManagement calls the Management API with the token.
func (o *doctorOptions) checkManagement(ctx context.Context, r *report, tok *oauth2.Token) {
	const check = "management"
	if tok == nil {
		r.line(statusSkip, check, "no token to call the Management API with")
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.issuerBase()+"/management/v1/orgs/me", nil)
	if err != nil {
		r.line(statusFail, check, "%v", err)
		return
	}
	status, body, err := o.send(req, tok, o.orgID)
	if err != nil {
		r.line(statusFail, check, "no answer from the Management API: %v", err)
		return
	}
	if status != http.StatusOK {
		r.line(statusFail, check, "GET /management/v1/orgs/me answered HTTP %d: %s", status, o.apiHint(status, body, o.orgID))
		return
	}
	var me struct{ Org struct{ ID, Name string } }
	if json.Unmarshal(body, &me) != nil || me.Org.ID == "" {
		r.line(statusFail, check, "GET /management/v1/orgs/me answered HTTP 200 with no organization: check that "+
			"-issuer is ZITADEL's URL, not that of a proxy or a web app in front of it")
		return
	}
	r.line(statusOK, check, "GET /management/v1/orgs/me answered: organization %s (%s)", quoted(me.Org.Name), shown(me.Org.ID))
}

// checkIntrospection asks ZITADEL, as the API application of -app-key,
// whether the token is active.
func (o *doctorOptions) checkIntrospection(ctx context.Context, r *report, tok *oauth2.Token) {
	const check = "introspection"
	switch {
	case o.appKeyPath == "":
		r.line(statusSkip, check, "give -app-key (an API application's key) to check that your API accepts the token")
		return
	case tok == nil:
		r.line(statusSkip, check, "no token to check")
		return
	}
	key, err := readKey("the file given as -app-key", o.appKeyPath)
	if err == nil && key.Type != serviceuser.KeyTypeApplication {
		err = fmt.Errorf("-app-key is a key of type %q; give an API application's key (type %q)", key.Type, serviceuser.KeyTypeApplication)
	}
	if err != nil {
		r.line(statusFail, check, "%v", err)
		return
	}
	in, err := o.introspector(ctx, key, "")
	if err != nil {
		r.line(statusFail, check, "%v", err)
		return
	}
	res, err := in.Introspect(ctx, tok.AccessToken)
	switch {
	case err != nil:
		r.line(statusFail, check, "%v", err)
	case !res.Active:
		r.line(statusFail, check, "ZITADEL reports the token inactive, which means one of two things it answers alike: "+
			"the token lacks the API's project in its audience (request the scope %s), or the application key %s "+
			"is wrong or deleted", scope.ProjectAudience("PROJECT_ID"), key.KeyID)
	default:
		r.line(statusOK, check, "the API application %s sees the token active (sub %s)", key.ClientID, shown(res.Subject))
	}
}
