package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/internal/printable"
)

// clockTolerance is the clock offset doctor accepts. The Date header has a
// resolution of one second; ZITADEL refuses assertions issued more than a
// second in its future, which the library's backdating absorbs up to a point.
const clockTolerance = 10 * time.Second

// maxDiscovery bounds the discovery answer doctor reads.
const maxDiscovery = 1 << 20

// Check outcomes; a skipped check does not fail the run.
const (
	statusOK   = "ok"
	statusFail = "FAIL"
	statusSkip = "skip"
)

// report prints doctor's checks, one line each, and counts the failures.
type report struct {
	w              io.Writer
	failed, checks int
}

// line prints one check's outcome on one line. Errors among args are shown
// as errorText shows them, and the whole line is escaped, as it may repeat
// what a server sent.
func (r *report) line(status, check, format string, args ...any) {
	r.checks++
	if status == statusFail {
		r.failed++
	}
	for i, a := range args {
		if err, ok := a.(error); ok {
			args[i] = errorText(err)
		}
	}
	msg := printable.Line(strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " "))
	fmt.Fprintf(r.w, "%-4s  %-13s %s\n", status, check, msg)
}

// checksFailedError is doctor's verdict when a check failed.
type checksFailedError struct{ failed, checks int }

func (e *checksFailedError) Error() string {
	return fmt.Sprintf("%d of %d checks failed", e.failed, e.checks)
}

// runDoctor turns ZITADEL's terse refusals into a report: each check on one
// line with what to do when it fails.
func runDoctor(ctx context.Context, o *options, stdout io.Writer) error {
	if strings.TrimSpace(o.issuer) == "" {
		return usageErrorf("missing -issuer (or $%s)", envIssuer)
	}
	if o.timeout <= 0 {
		return usageErrorf("-timeout must be positive")
	}
	if err := o.checkRoute(); err != nil {
		return err
	}
	mode, err := o.authMode()
	if err != nil {
		return err
	}
	r := &report{w: stdout}
	date, local, discovered := o.checkDiscovery(ctx, r)
	checkClock(r, date, local)
	cred := o.checkCredential(r, mode)
	tok := o.checkTokens(ctx, r, cred, discovered)
	o.checkManagement(ctx, r, tok)
	o.checkIntrospection(ctx, r, tok)
	if r.failed > 0 {
		return &checksFailedError{r.failed, r.checks}
	}
	return nil
}

// checkDiscovery checks that the issuer answers discovery and names itself
// exactly as -issuer does. It returns the answer's Date and the local time
// half way through the request, for the clock check, and whether the check
// passed.
func (o *options) checkDiscovery(ctx context.Context, r *report) (date, local time.Time, ok bool) {
	const check = "discovery"
	base := o.issuerBase()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/.well-known/openid-configuration", nil)
	if err != nil {
		r.line(statusFail, check, "-issuer %s is not a URL: %v", quoteArg(o.issuer), err)
		return
	}
	client := &http.Client{Transport: o.route(), Timeout: o.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	sent := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		r.line(statusFail, check, "no answer from %s: %v; check the address, the port and the network", o.reached(req.URL.Host), err)
		return
	}
	defer resp.Body.Close()
	local = sent.Add(time.Since(sent) / 2)
	date, _ = http.ParseTime(resp.Header.Get("Date"))
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxDiscovery))
	status, msg := o.discoveryVerdict(resp, body)
	if status == statusOK && o.address != "" {
		msg += fmt.Sprintf(" (reached through -address %s)", o.addressBase())
	}
	r.line(status, check, "%s", msg)
	return date, local, status == statusOK
}

// addressBase is -address without surrounding space and trailing slash.
func (o *options) addressBase() string {
	return strings.TrimRight(strings.TrimSpace(o.address), "/")
}

// reached names where the requests to host go: host, or -address.
func (o *options) reached(host string) string {
	if o.address == "" {
		return host
	}
	return "-address " + o.addressBase()
}

// discoveryVerdict judges the discovery answer for -issuer.
func (o *options) discoveryVerdict(resp *http.Response, body []byte) (string, string) {
	var doc struct {
		Issuer string `json:"issuer"`
	}
	base := o.issuerBase()
	switch {
	case resp.StatusCode == http.StatusNotFound && strings.Contains(answerText(body), zitadelNoInstance):
		return statusFail, o.instanceNotFound(answerText(body))
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return statusFail, fmt.Sprintf("discovery redirects (HTTP %d) to %s: use the issuer the redirect leads to",
			resp.StatusCode, quoted(resp.Header.Get("Location")))
	case resp.StatusCode != http.StatusOK:
		return statusFail, fmt.Sprintf("discovery answered HTTP %d: check that -issuer is the instance's URL", resp.StatusCode)
	case json.Unmarshal(body, &doc) != nil || doc.Issuer == "":
		return statusFail, "the answer is not a discovery document: check that -issuer is the instance's URL, not a proxy's page"
	case doc.Issuer != base:
		return statusFail, fmt.Sprintf("the instance names itself %s: give exactly that as -issuer (the assertion's audience must match it)", quoted(doc.Issuer))
	case strings.HasSuffix(strings.TrimSpace(o.issuer), "/"):
		return statusOK, fmt.Sprintf("the instance names itself %s (the trailing slash of -issuer is dropped)", quoted(doc.Issuer))
	}
	return statusOK, fmt.Sprintf("the instance names itself %s", quoted(doc.Issuer))
}

// checkClock compares the server's Date with the local clock.
func checkClock(r *report, date, local time.Time) {
	const check = "clock"
	if date.IsZero() || local.IsZero() {
		r.line(statusSkip, check, "the server sent no Date header to compare clocks with")
		return
	}
	offset := date.Sub(local).Round(time.Second)
	switch {
	case offset < -clockTolerance:
		r.line(statusFail, check, "the server's clock is %s behind this machine's: ZITADEL refuses assertions "+
			"issued in its future; synchronise both clocks (NTP)", -offset)
	case offset > clockTolerance:
		r.line(statusFail, check, "the server's clock is %s ahead of this machine's: tokens expire early and "+
			"assertions may be too old; synchronise both clocks (NTP)", offset)
	default:
		r.line(statusOK, check, "the server's clock is within %s of this machine's (offset %s)", clockTolerance, offset)
	}
}

// checkCredential loads the credential and checks what can be checked
// without the server; nil when it cannot be used.
func (o *options) checkCredential(r *report, mode string) *credential {
	var cred *credential
	var err error
	switch mode {
	case modeKey:
		return o.checkKey(r)
	case modeClient:
		cred, err = clientCredential(o)
	default:
		cred, err = patCredential(o)
	}
	if err != nil {
		r.line(statusFail, "credential", "%v", withheld(err, o.secrets))
		return nil
	}
	what := map[string]string{modeClient: "client secret of " + cred.id, modePAT: "personal access token"}[mode]
	r.line(statusOK, "credential", "%s read", what)
	return cred
}

// keyExpiryWarning is how soon before a key's expiry doctor says so.
const keyExpiryWarning = 14 * 24 * time.Hour

// checkKey checks the key file: its type, its expiry and its kind.
func (o *options) checkKey(r *report) *credential {
	const check = "key"
	if err := checkRequired(o, true); err != nil {
		r.line(statusFail, check, "%v", err)
		return nil
	}
	key, err := loadKey(o)
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
	return newKeyCredential(o, key)
}

// checkTokens asks for a token with openid alone, then with each scope,
// and returns a token with every scope, or nil. discovered is false when
// the discovery check failed: the token endpoint is then unknown unless
// -token-url names it.
func (o *options) checkTokens(ctx context.Context, r *report, cred *credential, discovered bool) *oauth2.Token {
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
		o.tokenFailed(r, "token", "a token with the scope openid alone", err)
		return nil
	}
	r.line(statusOK, "token", "a token with the scope openid")
	extra := slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return s == "openid" })
	for _, s := range extra {
		if tok, err = cred.token(ctx, []string{"openid", s}); err != nil {
			o.tokenFailed(r, "scope", "the scope "+s, err)
			return nil
		}
		r.line(statusOK, "scope", "%s granted", s)
	}
	if len(extra) > 1 || !slices.Contains(scopes, "openid") {
		if tok, err = cred.token(ctx, scopes); err != nil {
			o.tokenFailed(r, "scopes", "the scopes together", err)
			return nil
		}
		r.line(statusOK, "scopes", "all requested scopes together")
	}
	return tok
}

// tokenFailed reports a token request that failed: refused names what
// ZITADEL refused, for an answer that refuses it. An error before the
// request, or with no answer, is not called a refusal.
func (o *options) tokenFailed(r *report, check, refused string, err error) {
	err = withheld(o.explain(err), o.secrets)
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
func (o *options) checkManagement(ctx context.Context, r *report, tok *oauth2.Token) {
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
	status, body, err := o.send(req, tok)
	if err != nil {
		r.line(statusFail, check, "no answer from the Management API: %v", err)
		return
	}
	if status != http.StatusOK {
		r.line(statusFail, check, "GET /management/v1/orgs/me answered HTTP %d: %s", status, o.apiHint(status, body))
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
func (o *options) checkIntrospection(ctx context.Context, r *report, tok *oauth2.Token) {
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
	in, err := o.introspector(ctx, key)
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
			"is wrong or deleted", serviceuser.ScopeProjectAudience("PROJECT_ID"), key.KeyID)
	default:
		r.line(statusOK, check, "the API application %s sees the token active (sub %s)", key.ClientID, shown(res.Subject))
	}
}
