// Command zitadel-token obtains access tokens for a ZITADEL service user
// (machine user) from its key file, with the JWT bearer grant of RFC 7523,
// or from its client secret (client credentials grant), or uses a personal
// access token; it calls the instance's APIs and checks a setup.
//
// Usage:
//
//	zitadel-token [token] -key key.json -issuer https://my-instance.zitadel.cloud
//	zitadel-token token -client-id LOGIN -client-secret-file secret.txt -issuer URL
//	zitadel-token api [-X METHOD] [-d BODY|@FILE] [-org ORGID] /management/v1/orgs/me
//	zitadel-token doctor [-app-key app.json]
//	zitadel-token api -issuer https://auth.example.com -address http://zitadel.zitadel.svc:8080 -insecure-allow-plain-http PATH
//	zitadel-token assertion -key key.json -issuer https://my-instance.zitadel.cloud
//	zitadel-token inspect -key key.json
//	zitadel-token userinfo -key key.json -issuer https://my-instance.zitadel.cloud
//	zitadel-token introspect -key app.json -issuer https://my-instance.zitadel.cloud -token TOKEN
//	zitadel-token demo
//
// Run "zitadel-token help" for the flags and the exit codes, and
// "zitadel-token SUBCOMMAND -h" for the flags of one subcommand.
//
// Where ZITADEL is reached at another address than its public issuer, as
// inside a cluster, -address (or $ZITADEL_ADDRESS) sends the requests there,
// naming the instance by the x-zitadel-instance-host header; plain http to
// a host that is not loopback needs -insecure-allow-plain-http.
//
// Tokens are cached per user, in private files under the user's cache
// directory, until a minute before they expire (-no-cache skips the cache).
//
// The tool never prints the private key or a client secret, and prints a
// token (a personal access token too) or an assertion only on standard output
// of the subcommand that asks for it. The token that
// introspect checks is never printed.
//
// What a server sends (claims, ids, error texts) is printed with its control
// characters escaped, so that it cannot drive the terminal: JSON output
// keeps decoding to the same values. api prints an answer that is not JSON
// as it came, like curl, so that a file or a pipe gets it intact; on a
// terminal it is escaped too.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-serviceuser/serviceuser"
)

const progName = "zitadel-token"

// Exit codes a script can rely on.
const (
	exitOK       = 0
	exitFailure  = 1 // anything not covered below
	exitUsage    = 2 // bad command line or configuration
	exitKey      = 3 // key file, secret or token unreadable, invalid or expired
	exitRefused  = 4 // the server answered with an error
	exitNetwork  = 5 // no answer: network error or timeout
	exitInactive = 6 // introspect: the token is not active
	exitChecks   = 7 // doctor: a check failed
)

// Environment variables read when the matching flags are not given.
const (
	envKey    = "ZITADEL_KEY"
	envIssuer = "ZITADEL_ISSUER"
)

func main() {
	ctx, stop := signalContext()
	exitWhenStuck(ctx, os.Stderr)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	exitMu.Lock()
	stop()
	os.Exit(code)
}

// run is the whole tool: main only adds the process around it.
// stdin is read only by introspect, for the token to check.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) (string, bool)) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	if isHelpArg(args[0]) {
		return help(args[1:], stdout, stderr)
	}
	cmd, rest := selectCommand(args)
	if cmd == nil {
		return fail(stderr, usageErrorf("unknown subcommand %s", quoteArg(args[0])))
	}
	o := newOptions(env, stdin)
	defer o.watch.close()
	fs := cmd.flagSet(o)
	operands, err := parseFlags(fs, rest, len(cmd.operands))
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cmd.printHelp(stdout)
			return exitOK
		}
		return fail(stderr, err)
	}
	o.operands, o.defaultScopes = operands, cmd.defaultScopes()
	o.applyEnvDefaults()
	if err := o.applyRouteEnv(fs); err != nil {
		return fail(stderr, err)
	}
	err = o.explain(o.watch.classify(cmd.run(ctx, o, stdout)))
	if s := stoppedBy(ctx); err != nil && s != nil {
		fmt.Fprintf(stderr, "%s: %s\n", progName, s)
		return s.code
	}
	if err != nil {
		return fail(stderr, withheld(err, o.secrets))
	}
	return exitOK
}

func isHelpArg(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// help prints the whole help, or with a subcommand's name, its own.
func help(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		printUsage(stdout)
	case len(args) == 1 && lookupCommand(args[0]) != nil:
		lookupCommand(args[0]).printHelp(stdout)
	default:
		return fail(stderr, usageErrorf("help takes one subcommand, not %s", quoteArg(strings.Join(args, " "))))
	}
	return exitOK
}

// selectCommand returns the subcommand args name and its arguments: token
// when the first argument is a flag, nil when the name is unknown.
func selectCommand(args []string) (*command, []string) {
	if strings.HasPrefix(args[0], "-") {
		return lookupCommand("token"), args
	}
	return lookupCommand(args[0]), args[1:]
}

// parseFlags parses args into fs and returns the operands, at most max of
// them; flags may follow an operand, as in "api PATH -org ID".
func parseFlags(fs *flag.FlagSet, args []string, max int) ([]string, error) {
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err}
		}
		if fs.NArg() == 0 {
			break
		}
		if len(operands) == max {
			return nil, usageErrorf("unexpected argument %s", quoteArg(fs.Arg(0)))
		}
		operands = append(operands, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return operands, nil
}

func newOptions(env func(string) (string, bool), stdin io.Reader) *options {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	return &options{env: env, stdin: stdin, watch: newBodyWatch()}
}

// fail reports err on one line of stderr and returns its exit code.
func fail(stderr io.Writer, err error) int {
	msg := errorText(err)
	if strings.Contains(msg, "PRIVATE KEY") { // a value echoed back by a parser
		msg = "the error message is withheld: it would repeat key material"
	}
	var ue *usageError
	if errors.As(err, &ue) {
		msg += " (run '" + progName + " help' for usage)"
	}
	code := exitCode(err)
	fmt.Fprintf(stderr, "%s: %s\n", progName, msg)
	return code
}

// withheld replaces err's message when it would repeat one of secrets.
func withheld(err error, secrets []string) error {
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			return &secretError{err}
		}
	}
	return err
}

// secretError is an error whose message is not shown: it holds a secret.
type secretError struct{ err error }

func (e *secretError) Error() string {
	return "the error message is withheld: it would repeat a secret"
}
func (e *secretError) Unwrap() error { return e.err }

// quoteArg quotes a command-line argument for an error message, unless it
// is long or looks like key file content, which must not be echoed.
func quoteArg(s string) string {
	if len(s) > 64 || strings.ContainsAny(s, "{}\n\r") || strings.Contains(s, "PRIVATE KEY") {
		return "(value not shown)"
	}
	return fmt.Sprintf("%q", s)
}

// options holds the flags of every subcommand; each uses some of them.
type options struct {
	env              func(string) (string, bool)
	stdin            io.Reader
	watch            *bodyWatch // sends every request to ZITADEL
	keyPath          string
	keyEnv           string
	issuer           string
	scopes           scopeList
	tokenURL         string
	userinfoURL      string
	token            string
	introspectionURL string
	timeout          time.Duration
	lifetime         time.Duration
	json             bool
	demo             bool
	clientID         string
	clientSecretFile string
	patFile          string
	secrets          []string // values no message may repeat
	noCache          bool
	method           string
	data             string
	orgID            string
	appKeyPath       string
	address          string     // -address: where requests to the issuer go
	allowPlainHTTP   bool       // -insecure-allow-plain-http
	headers          headerList // -H
	operands         []string   // the subcommand's operands, such as api's PATH
	defaultScopes    []string   // the subcommand's scopes when -scope is not given
}

// applyEnvDefaults fills what the flags left empty from the environment.
// The credential's variables are read when the credential is loaded.
func (o *options) applyEnvDefaults() {
	if o.issuer == "" {
		o.issuer, _ = o.env(envIssuer)
	}
}

// issuerBase is -issuer without surrounding space and trailing slash.
func (o *options) issuerBase() string {
	return strings.TrimSuffix(strings.TrimSpace(o.issuer), "/")
}

// scopeList is a repeatable flag; each value may hold several scopes
// separated by white space.
type scopeList []string

func (s *scopeList) String() string { return strings.Join(*s, " ") }

func (s *scopeList) Set(v string) error {
	fields := strings.Fields(v)
	if len(fields) == 0 {
		return errors.New("empty scope")
	}
	*s = append(*s, fields...)
	return nil
}

// scopeValues returns the scopes to request: the library's default scopes
// unless some were given.
func (o *options) scopeValues() []string {
	if len(o.scopes) == 0 && o.defaultScopes != nil {
		return slices.Clone(o.defaultScopes)
	}
	if len(o.scopes) == 0 {
		return serviceuser.DefaultScopes()
	}
	return o.scopes
}

// usageError is a problem with the command line.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// keyError is a key file that could not be loaded for another reason than
// its content (which the library reports as serviceuser.ErrInvalidKeyFile).
type keyError struct{ err error }

func (e *keyError) Error() string { return e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }

// refusedError is an unusable answer from an endpoint the tool calls itself.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

// inactiveError is introspection's answer that the token is not active.
type inactiveError struct{}

// ZITADEL answers {"active":false} alike for an inactive token and for a
// refused API application key, so the message names both.
func (*inactiveError) Error() string {
	return "the token is not active, or ZITADEL refused the API application's key: it answers both alike " +
		"(an active token needs the API's project in its audience: scope urn:zitadel:iam:org:project:id:PROJECT_ID:aud)"
}

// exitCode maps err to the exit codes documented in the usage text.
func exitCode(err error) int {
	var (
		ue *usageError
		ke *keyError
		cr *serviceuser.CredentialError
		ce *serviceuser.ConfigError
		te *serviceuser.TokenError
		de *serviceuser.DiscoveryError
		re *refusedError
		ie *inactiveError
		co *cutOffError
		ae *apiError
		cf *checksFailedError
	)
	switch {
	case errors.As(err, &cf):
		return exitChecks
	case errors.As(err, &ae):
		return ae.exitCode()
	case errors.As(err, &ie):
		return exitInactive
	case errors.As(err, &co):
		return exitNetwork
	case errors.As(err, &ue), errors.Is(err, serviceuser.ErrInsecureURL):
		return exitUsage
	case errors.As(err, &ke), errors.As(err, &cr), errors.Is(err, serviceuser.ErrPATExpired), errors.Is(err, serviceuser.ErrInvalidKeyFile), errors.Is(err, serviceuser.ErrKeyExpired):
		return exitKey
	case errors.As(err, &ce):
		if ce.Field == "Key" {
			return exitKey
		}
		return exitUsage
	case errors.As(err, &te):
		return answered(te.StatusCode)
	case errors.As(err, &de):
		return answered(de.StatusCode)
	case errors.As(err, &re):
		return exitRefused
	case isNetworkError(err):
		return exitNetwork
	}
	return exitFailure
}

// answered maps the status of a library error: 0 means there was no answer.
func answered(status int) int {
	if status == 0 {
		return exitNetwork
	}
	return exitRefused
}

func isNetworkError(err error) bool {
	var ne net.Error
	var ue *url.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) || errors.As(err, &ue)
}
