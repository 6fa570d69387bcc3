package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// doctorOptions are the flags of doctor.
type doctorOptions struct {
	tokenFlags
	orgID      string
	appKeyPath string
}

func (o *doctorOptions) define(fs *flagSet) {
	o.tokenFlags.define(fs)
	fs.stringVar(&o.orgID, "org", "")
	fs.stringVar(&o.appKeyPath, "app-key", "")
}

// run turns ZITADEL's terse refusals into a report: each check on one line
// with what to do when it fails. Its verdict, when a check failed, is exit
// code 7.
func (o *doctorOptions) run(ctx context.Context, x *invocation, stdout io.Writer) error {
	if err := o.requireIssuer(); err != nil {
		return err
	}
	if err := o.checkZitadel(); err != nil {
		return err
	}
	mode, err := o.authMode()
	if err != nil {
		return err
	}
	r := &report{w: stdout}
	date, local, discovered := o.checkDiscovery(ctx, r)
	checkClock(r, date, local)
	cred := o.checkCredential(r, x, mode)
	tok := o.checkTokens(ctx, r, x, cred, discovered)
	o.checkManagement(ctx, r, tok)
	o.checkIntrospection(ctx, r, tok)
	if r.failed > 0 {
		return withCode(exitChecks, fmt.Errorf("%d of %d checks failed", r.failed, r.checks))
	}
	return nil
}

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
	msg := printableLine(strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " "))
	fmt.Fprintf(r.w, "%-4s  %-13s %s\n", status, check, msg)
}

// checkDiscovery checks that the issuer answers discovery and names itself
// exactly as -issuer does. It returns the answer's Date and the local time
// half way through the request, for the clock check, and whether the check
// passed.
func (o *doctorOptions) checkDiscovery(ctx context.Context, r *report) (date, local time.Time, ok bool) {
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

// reached names where the requests to host go: host, or -address.
func (o *zitadelFlags) reached(host string) string {
	if o.address == "" {
		return host
	}
	return "-address " + o.addressBase()
}

// discoveryVerdict judges the discovery answer for -issuer.
func (o *zitadelFlags) discoveryVerdict(resp *http.Response, body []byte) (string, string) {
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
