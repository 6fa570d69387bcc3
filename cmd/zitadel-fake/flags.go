package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// defaultFailStatus is the status of a fault when none is given: with it
// the fake answers ZITADEL's own {"error":"server_error","error_description":"Errors.Internal"}.
const defaultFailStatus = http.StatusInternalServerError

// options are the command line, checked.
type options struct {
	listen string // address of the fake ZITADEL
	admin  string // address of the admin endpoint; "" for none
	dir    string // where the credentials go; "" for a new temporary directory
	domain string // instance domain; "" for the listener's address
	knobs  settings
	fail   int // token requests to fail from the start
	status int // their HTTP status
}

// usage is the text of -h.
const usage = `Usage: zitadel-fake [flags]

zitadel-fake runs a fake ZITADEL instance (package serviceusertest) until it
gets SIGINT or SIGTERM, then stops and exits 0. It makes a service user with
a key, an API application with a key, a machine user with a client secret
and a personal access token, writes them into a directory (0700; files
0600), and prints on standard output the variables to use, one
"export NAME=value" line each, then closes standard output. Everything else
goes to standard error.

  eval "$(zitadel-fake &)"     # start it in the background, take its variables
  go run ./examples/demo       # use it
  kill "$ZITADEL_FAKE_PID"     # stop it

(The eval form needs the built command: "go run" keeps standard output open
while the fake runs. Under "go run", run it in a terminal of its own.)

Variables printed:
  ZITADEL_ISSUER              the issuer, http://127.0.0.1:PORT
  ZITADEL_KEY                 path of the service user's key file (service-user.json)
  ZITADEL_API_KEY             path of the API application's key file (api-app.json),
                              for introspection
  ZITADEL_PROJECT_ID          the application's project: tokens requested with the scope
                              urn:zitadel:iam:org:project:id:$ZITADEL_PROJECT_ID:aud
                              are active at introspection
  ZITADEL_CLIENT_ID           the machine user with a client secret (client_credentials)
  ZITADEL_CLIENT_SECRET_FILE  path of its secret (client-secret.txt)
  ZITADEL_PAT_FILE            path of the personal access token of the service user (pat.txt)
  ZITADEL_FAKE_ADMIN          base URL of the admin endpoint (unless -admin "")
  ZITADEL_FAKE_PID            the process to signal

With these variables, zitadel-token uses the key file ($ZITADEL_KEY): a
client id without $ZITADEL_CLIENT_SECRET is no credential of its own. Name
another credential with flags, as in
  zitadel-token token -client-id "$ZITADEL_CLIENT_ID" -client-secret-file "$ZITADEL_CLIENT_SECRET_FILE"
  zitadel-token token -pat-file "$ZITADEL_PAT_FILE"

Admin endpoint (on its own listener, never on the issuer's; answers JSON):
  POST /admin/latency?d=200ms           delay each token request
  POST /admin/fail?n=3&status=500       fail the next n token requests (n=0 clears;
       [&endpoint=introspection]        status 500 is ZITADEL's Errors.Internal)
  POST /admin/projection-delay?d=50ms   credentials work only d after they are made
  POST /admin/token-lifetime?d=60s      lifetime (expires_in) of tokens issued next
  POST /admin/clock-offset?d=-30s       shift the server's clock
  POST /admin/legacy-errors?on=true     refuse assertions as older servers (400 invalid_grant)
  GET  /admin/stats                     request counts, rejections and settings
  e.g. curl -X POST "$ZITADEL_FAKE_ADMIN/admin/fail?n=1"

Flags (the knobs take the same values as the admin endpoint):
`

// parseArgs reads the command line. -h prints the usage on out and returns
// flag.ErrHelp; other mistakes are returned for the caller to report.
func parseArgs(args []string, out io.Writer) (*options, error) {
	o := &options{knobs: settings{TokenLifetime: defaultTokenLifetime}}
	fs := flag.NewFlagSet(progName, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by the caller, once
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "`address` of the fake ZITADEL; port 0 picks a free one")
	fs.StringVar(&o.admin, "admin", "127.0.0.1:0", "`address` of the admin endpoint; empty for none")
	fs.StringVar(&o.dir, "dir", "", "`directory` for the credentials, made (0700) if missing and kept at exit;\nby default a new temporary one, removed at exit")
	fs.StringVar(&o.domain, "domain", "", "instance domain `host:port`, as clients reach the fake (requests for\nanother host get ZITADEL's 404); default the listen address,\n127.0.0.1:PORT when listening on all interfaces")
	fs.DurationVar(&o.knobs.Latency, "latency", 0, "delay each token request by `d`")
	fs.IntVar(&o.fail, "fail", 0, "fail the first `n` token requests")
	fs.IntVar(&o.status, "fail-status", defaultFailStatus, "HTTP `status` of the -fail answers")
	fs.DurationVar(&o.knobs.ProjectionDelay, "projection-delay", 0, "credentials work only `d` after they are made (the ones made at start too)")
	fs.DurationVar(&o.knobs.TokenLifetime, "token-lifetime", defaultTokenLifetime, "lifetime `d` of issued tokens, in whole seconds; 0 omits expires_in")
	fs.DurationVar(&o.knobs.ClockOffset, "clock-offset", 0, "shift the server's clock by `d`")
	fs.BoolVar(&o.knobs.LegacyErrors, "legacy-errors", false, "refuse assertions as older servers do (400 invalid_grant)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprint(out, usage)
			fs.SetOutput(out)
			fs.PrintDefaults()
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (all settings are flags)", fs.Arg(0))
	}
	return o, o.check()
}

// check refuses values the fake cannot serve.
func (o *options) check() error {
	if err := checkAddress("-listen", o.listen); err != nil {
		return err
	}
	if o.admin != "" {
		if err := checkAddress("-admin", o.admin); err != nil {
			return err
		}
	}
	if o.domain != "" {
		if _, _, err := net.SplitHostPort(o.domain); err != nil || strings.ContainsAny(o.domain, "/ ") {
			return fmt.Errorf("-domain %q is not host:port", o.domain)
		}
	}
	if o.fail < 0 {
		return fmt.Errorf("-fail %d is negative", o.fail)
	}
	if err := checkStatus(o.status); err != nil {
		return fmt.Errorf("-fail-status: %w", err)
	}
	return o.knobs.check()
}

// checkAddress refuses an address net.Listen("tcp", ...) cannot take.
func checkAddress(flagName, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%s %q is not host:port (such as 127.0.0.1:8080, or port 0 for a free one)", flagName, addr)
	}
	return nil
}

// checkStatus refuses statuses that are not a final HTTP answer.
func checkStatus(status int) error {
	if status < 200 || status > 599 {
		return fmt.Errorf("status %d is not between 200 and 599", status)
	}
	return nil
}

// parseDuration reads a duration as the flags do; what names the value in
// errors.
func parseDuration(what, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a duration such as 200ms or 60s", what, s)
	}
	return d, nil
}
