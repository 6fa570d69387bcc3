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
//	zitadel-token version
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
	"os"
	"strings"
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
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	exitMu.Lock()
	stop()
	os.Exit(code)
}

// invocation is one run of the tool apart from its flags.
type invocation struct {
	stdin    io.Reader  // read by introspect (the token) and api (-d @-)
	watch    *bodyWatch // sends every request to ZITADEL
	operands []string   // the subcommand's operands, such as api's PATH
	secrets  []string   // values no message may repeat
}

// hide adds a secret that no message may repeat.
func (x *invocation) hide(secret string) { x.secrets = append(x.secrets, secret) }

// run is the whole tool: main only adds the process around it. The
// environment is the process's.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	if isHelpArg(args[0]) {
		return help(args[1:], stdout, stderr)
	}
	if isVersionArg(args[0]) {
		return printVersion(args[1:], stdout, stderr)
	}
	cmd, rest := selectCommand(args)
	if cmd == nil {
		return fail(stderr, usageErrorf("unknown subcommand %s", quoteArg(args[0])))
	}
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	x := &invocation{stdin: stdin, watch: newBodyWatch()}
	defer x.watch.close()
	fs, sub := cmd.flagSet(x)
	operands, err := fs.parse(rest, len(cmd.operands))
	if errors.Is(err, flag.ErrHelp) {
		cmd.printHelp(stdout)
		return exitOK
	}
	if err == nil {
		x.operands = operands
		err = sub.run(ctx, x, stdout)
	}
	if s := stoppedBy(ctx); err != nil && s != nil {
		fmt.Fprintf(stderr, "%s: %s\n", progName, s)
		return s.code
	}
	if err != nil {
		return fail(stderr, withheld(err, x.secrets))
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
