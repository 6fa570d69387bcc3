// Command zitadel-token obtains access tokens for a ZITADEL service user
// (machine user) from its key file, with the JWT bearer grant of RFC 7523.
//
// Usage:
//
//	zitadel-token [token] -key key.json -issuer https://my-instance.zitadel.cloud
//	zitadel-token assertion -key key.json -issuer https://my-instance.zitadel.cloud
//	zitadel-token inspect -key key.json
//	zitadel-token userinfo -key key.json -issuer https://my-instance.zitadel.cloud
//	zitadel-token introspect -key app.json -issuer https://my-instance.zitadel.cloud -token TOKEN
//	zitadel-token -demo
//
// Run "zitadel-token help" for the flags and the exit codes.
//
// The tool never prints the private key, and prints a token or an assertion
// only on standard output of the subcommand that asks for it. The token that
// introspect checks is never printed.
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
	exitKey      = 3 // key file unreadable, invalid or expired
	exitRefused  = 4 // the server answered with an error
	exitNetwork  = 5 // no answer: network error or timeout
	exitInactive = 6 // introspect: the token is not active
)

// Environment variables read when the matching flags are not given.
const (
	envKey    = "ZITADEL_KEY"
	envIssuer = "ZITADEL_ISSUER"
)

func main() {
	ctx, stop := signalContext()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

// command is one subcommand: its flags and what it does.
type command struct {
	name    string
	summary string
	flags   []func(*flag.FlagSet, *options)
	run     func(ctx context.Context, o *options, stdout io.Writer) error
}

// commands lists the subcommands in the order the usage text shows them.
var commands = []command{
	{"token", "print an access token (the default when the first argument is a flag)",
		[]func(*flag.FlagSet, *options){keyFlags, issuerFlag, tokenFlags, jsonFlag, demoFlag}, runToken},
	{"assertion", "print a signed JWT assertion for the key, like zitadel-tools key2jwt",
		[]func(*flag.FlagSet, *options){keyFlags, issuerFlag, lifetimeFlag}, runAssertion},
	{"inspect", "print what the key file holds, without the private key (no -issuer needed)",
		[]func(*flag.FlagSet, *options){keyFlags, jsonFlag}, runInspect},
	{"userinfo", "fetch a token and print the userinfo endpoint's JSON answer",
		[]func(*flag.FlagSet, *options){keyFlags, issuerFlag, tokenFlags, userinfoFlag}, runUserinfo},
	{"introspect", "ask ZITADEL whether a token is active, with an API application key",
		[]func(*flag.FlagSet, *options){keyFlags, issuerFlag, introspectFlags, timeoutFlag, jsonFlag}, runIntrospect},
}

const flagsText = `Flags:
  -key PATH          service user key file (JSON, as downloaded from ZITADEL);
                     for introspect, an API application key file instead
  -key-env NAME      environment variable holding the key file's JSON or its path;
                     when neither -key nor -key-env is given, $ZITADEL_KEY is used if set
  -issuer URL        ZITADEL instance, e.g. https://my-instance.zitadel.cloud
                     (default $ZITADEL_ISSUER) [token, assertion, userinfo, introspect]
  -scope SCOPE       scope to request; repeat it or separate scopes with spaces
                     (default openid) [token, userinfo]
  -token-url URL     token endpoint, skipping discovery [token, userinfo]
  -userinfo-url URL  userinfo endpoint, skipping discovery [userinfo]
  -token TOKEN       the token to check; when absent or "-", it is read from
                     standard input [introspect]
  -introspection-url URL
                     introspection endpoint, skipping discovery [introspect]
  -timeout D         bound on each request to ZITADEL (default 10s)
                     [token, userinfo, introspect]
  -json              print JSON instead of text [token, inspect, introspect]
  -lifetime D        assertion lifetime, at most 1h (default 1h) [assertion]
  -demo              run against a local fake ZITADEL started for the occasion;
                     -key and -issuer are not needed [token]

Exit codes:
  0  success
  1  other failure
  2  usage error: unknown subcommand or flag, missing -key or -issuer, bad URL
  3  key file problem: unreadable, invalid or expired key
     (inspect still prints the summary of an expired key)
  4  the server refused: error answer from the token, discovery, userinfo
     or introspection endpoint
  5  no answer from the server: network error or timeout
  6  introspect: the token is not active (expired, revoked or unknown);
     the answer is still printed
  130, 143  ended by SIGINT (Ctrl-C) or SIGTERM

Examples:
  zitadel-token -key key.json -issuer https://my-instance.zitadel.cloud
  export ZITADEL_KEY=key.json ZITADEL_ISSUER=https://my-instance.zitadel.cloud
  zitadel-token token -json -scope "openid urn:zitadel:iam:org:project:id:zitadel:aud"
  zitadel-token userinfo
  zitadel-token inspect -key key.json
  zitadel-token token | zitadel-token introspect -key app.json -json
  zitadel-token -demo
`

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s [subcommand] [flags]\n\n", progName)
	fmt.Fprintf(w, "Obtains tokens for a ZITADEL service user from its key file (JWT bearer grant),\n")
	fmt.Fprintf(w, "and checks tokens at ZITADEL's introspection endpoint with an API application key.\n\n")
	fmt.Fprintf(w, "Subcommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-10s %s\n\n", "help", "print this help (also -h, --help)")
	fmt.Fprint(w, flagsText)
}

// run is the whole tool: main only adds the process around it.
// stdin is read only by introspect, for the token to check.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) (string, bool)) int {
	name, rest := "token", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, rest = args[0], args[1:]
	}
	if name == "help" {
		printUsage(stdout)
		return exitOK
	}
	cmd := lookupCommand(name)
	if cmd == nil {
		return fail(stderr, usageErrorf("unknown subcommand %s", quoteArg(name)))
	}
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	o := &options{env: env, stdin: stdin, watch: newBodyWatch()}
	defer o.watch.close()
	fs := cmd.flagSet(o)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout)
			return exitOK
		}
		return fail(stderr, &usageError{err})
	}
	if fs.NArg() > 0 {
		return fail(stderr, usageErrorf("unexpected argument %s", quoteArg(fs.Arg(0))))
	}
	o.applyEnvDefaults()
	if err := o.watch.classify(cmd.run(ctx, o, stdout)); err != nil {
		if s := stoppedBy(ctx); s != nil {
			fmt.Fprintf(stderr, "%s: %s\n", progName, s)
			return s.code
		}
		return fail(stderr, err)
	}
	return exitOK
}

func lookupCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func (c *command) flagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet(progName+" "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by fail, help by printUsage
	for _, add := range c.flags {
		add(fs, o)
	}
	return fs
}

// fail reports err on one line of stderr and returns its exit code.
func fail(stderr io.Writer, err error) int {
	msg := strings.Join(strings.Fields(err.Error()), " ")
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
}

func keyFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.keyPath, "key", "", "service user key file")
	fs.StringVar(&o.keyEnv, "key-env", "", "environment variable holding the key file's JSON or its path")
}

func issuerFlag(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.issuer, "issuer", "", "ZITADEL instance URL")
}

func tokenFlags(fs *flag.FlagSet, o *options) {
	fs.Var(&o.scopes, "scope", "scope to request (repeatable)")
	fs.StringVar(&o.tokenURL, "token-url", "", "token endpoint, skipping discovery")
	timeoutFlag(fs, o)
}

func timeoutFlag(fs *flag.FlagSet, o *options) {
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "bound on each request")
}

// introspectFlags are the token to check ("-" for standard input) and the
// endpoint to check it at.
func introspectFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.token, "token", "-", "the token to check, or - for standard input")
	fs.StringVar(&o.introspectionURL, "introspection-url", "", "introspection endpoint, skipping discovery")
}

func userinfoFlag(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.userinfoURL, "userinfo-url", "", "userinfo endpoint, skipping discovery")
}

func jsonFlag(fs *flag.FlagSet, o *options) {
	fs.BoolVar(&o.json, "json", false, "print JSON")
}

func lifetimeFlag(fs *flag.FlagSet, o *options) {
	fs.DurationVar(&o.lifetime, "lifetime", time.Hour, "assertion lifetime")
}

func demoFlag(fs *flag.FlagSet, o *options) {
	fs.BoolVar(&o.demo, "demo", false, "run against a local fake ZITADEL")
}

// applyEnvDefaults fills what the flags left empty from the environment.
func (o *options) applyEnvDefaults() {
	if o.issuer == "" {
		o.issuer, _ = o.env(envIssuer)
	}
	if o.keyPath == "" && o.keyEnv == "" {
		if v, ok := o.env(envKey); ok && strings.TrimSpace(v) != "" {
			o.keyEnv = envKey
		}
	}
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

// scopeValues returns the scopes to request: openid unless some were given.
func (o *options) scopeValues() []string {
	if len(o.scopes) == 0 {
		return []string{"openid"}
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

func (*inactiveError) Error() string { return "the token is not active" }

// exitCode maps err to the exit codes documented in the usage text.
func exitCode(err error) int {
	var (
		ue *usageError
		ke *keyError
		ce *serviceuser.ConfigError
		te *serviceuser.TokenError
		de *serviceuser.DiscoveryError
		re *refusedError
		ie *inactiveError
		co *cutOffError
	)
	switch {
	case errors.As(err, &ie):
		return exitInactive
	case errors.As(err, &co):
		return exitNetwork
	case errors.As(err, &ue), errors.Is(err, serviceuser.ErrInsecureURL):
		return exitUsage
	case errors.As(err, &ke), errors.Is(err, serviceuser.ErrInvalidKeyFile), errors.Is(err, serviceuser.ErrKeyExpired):
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
