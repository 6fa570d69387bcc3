package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/go-serviceuser/serviceuser"
)

// command is one subcommand: its flags (names in flagTable) and what it does.
type command struct {
	name    string
	summary string
	flags   []string
	run     func(ctx context.Context, o *options, stdout io.Writer) error
	// operands names the arguments after the flags, such as "PATH".
	operands []string
	// scopes are requested when -scope is not given; nil means the library's default.
	scopes []string
}

// apiScopes are what api and doctor request by default: the Management
// API refuses tokens without ZITADEL's project in their audience.
var apiScopes = []string{"openid", serviceuser.ScopeZitadelAPI}

// defaultScopes returns the scopes the subcommand requests without -scope.
func (c *command) defaultScopes() []string {
	if c.scopes != nil {
		return c.scopes
	}
	return serviceuser.DefaultScopes()
}

// commands lists the subcommands in the order the usage text shows them.
var commands = []command{
	{"token", "print an access token (the default when the first argument is a flag)",
		[]string{"key", "key-env", "client-id", "client-secret-file", "pat-file", "issuer", "scope", "token-url", "timeout", "json", "demo", "no-cache",
			"address", flagInsecurePlainHTTP, "H"}, runToken, nil, nil},
	{"assertion", "print a signed JWT assertion for the key, like zitadel-tools key2jwt",
		[]string{"key", "key-env", "issuer", "lifetime"}, runAssertion, nil, nil},
	{"inspect", "print what the key file holds, without the private key (no -issuer needed)",
		[]string{"key", "key-env", "json"}, runInspect, nil, nil},
	{"userinfo", "fetch a token and print the userinfo endpoint's JSON answer",
		[]string{"key", "key-env", "client-id", "client-secret-file", "pat-file", "issuer", "scope", "token-url", "userinfo-url", "timeout", "no-cache",
			"address", flagInsecurePlainHTTP, "H"}, runUserinfo, nil, nil},
	{name: "api", summary: "send an authenticated request to the instance's APIs, PATH relative to the issuer\n" +
		"(such as /management/v1/orgs/me), and print the answer: JSON indented, with control\n" +
		"characters in its strings escaped; any other answer as it came, escaped on a terminal;\n" +
		"see the exit codes",
		flags: []string{"key", "key-env", "client-id", "client-secret-file", "pat-file", "issuer", "scope", "token-url",
			"X", "d", "org", "timeout", "no-cache", "address", flagInsecurePlainHTTP, "H"}, run: runAPI, operands: []string{"PATH"}, scopes: apiScopes},
	{name: "doctor", summary: "check the setup step by step and say what to fix: discovery, clocks,\n" +
		"the credential, each scope, the Management API and, with -app-key, introspection",
		flags: []string{"key", "key-env", "client-id", "client-secret-file", "pat-file", "issuer", "scope", "token-url",
			"org", "app-key", "timeout", "address", flagInsecurePlainHTTP, "H"}, run: runDoctor, scopes: apiScopes},
	{"introspect", "ask ZITADEL whether a token is active, with an API application key",
		[]string{"key", "key-env", "issuer", "token", "introspection-url", "timeout", "json",
			"address", flagInsecurePlainHTTP, "H"}, runIntrospect, nil, nil},
	{"demo", "run against a local fake ZITADEL started for the occasion (no key or issuer needed)",
		[]string{"scope", "timeout"}, runDemo, nil, nil},
}

// flagSpec is one flag: how the help shows it and where its value goes.
type flagSpec struct {
	name   string
	arg    string // the value's name in the help; empty for a boolean flag
	help   string // lines separated by \n
	define func(fs *flag.FlagSet, o *options, name, usage string)
}

// flagTable is every flag of every subcommand, in the order the help lists
// them. The help shows a flag's default when it is not empty, false or "-".
var flagTable = []flagSpec{
	{"key", "PATH", "service user key file (JSON, as downloaded from ZITADEL);\n" +
		"for introspect, an API application key file instead", stringFlag(func(o *options) *string { return &o.keyPath }, "")},
	{"key-env", "NAME", "environment variable holding the key file's JSON or its path;\n" +
		"when neither -key nor -key-env is given, $" + envKey + " is used if set",
		stringFlag(func(o *options) *string { return &o.keyEnv }, "")},
	{"client-id", "ID", "client id (login name) of a machine user with a client secret\n(default $" + envClientID + ")",
		stringFlag(func(o *options) *string { return &o.clientID }, "")},
	{"client-secret-file", "PATH", "file holding the client secret of -client-id; without it the secret\n" +
		"is read from $" + envClientSecret + " (never give a secret as a flag value)",
		stringFlag(func(o *options) *string { return &o.clientSecretFile }, "")},
	{"pat-file", "PATH", "file holding a personal access token, instead of a key\n(default: the token in $" + envPAT + ")",
		stringFlag(func(o *options) *string { return &o.patFile }, "")},
	{"issuer", "URL", "ZITADEL instance, e.g. https://my-instance.zitadel.cloud\n(default $" + envIssuer + ")",
		stringFlag(func(o *options) *string { return &o.issuer }, "")},
	{"scope", "SCOPE", "scope to request; repeat it or separate scopes with spaces", defineScope},
	{"token-url", "URL", "token endpoint, skipping discovery", stringFlag(func(o *options) *string { return &o.tokenURL }, "")},
	{"userinfo-url", "URL", "userinfo endpoint, skipping discovery",
		stringFlag(func(o *options) *string { return &o.userinfoURL }, "")},
	{"token", "TOKEN", "the token to check; when absent or \"-\", it is read from\nstandard input",
		stringFlag(func(o *options) *string { return &o.token }, "-")},
	{"introspection-url", "URL", "introspection endpoint, skipping discovery",
		stringFlag(func(o *options) *string { return &o.introspectionURL }, "")},
	{"X", "METHOD", "HTTP method (default GET, or POST with -d)", stringFlag(func(o *options) *string { return &o.method }, "")},
	{"d", "BODY", "request body (JSON); @FILE reads it from a file, @- from standard input",
		stringFlag(func(o *options) *string { return &o.data }, "")},
	{"org", "ORGID", "organization the call acts on (sent as the x-zitadel-orgid header)",
		stringFlag(func(o *options) *string { return &o.orgID }, "")},
	{"app-key", "PATH", "API application key file: doctor checks that the application sees the\n" +
		"token active (request its project's audience with -scope)",
		stringFlag(func(o *options) *string { return &o.appKeyPath }, "")},
	{"timeout", "D", "bound on each request to ZITADEL",
		durationFlag(func(o *options) *time.Duration { return &o.timeout }, serviceuser.DefaultTimeout)},
	{"no-cache", "", "neither reuse nor store a token in the cache; without it a token is kept\n" +
		"until a minute before it expires, in a private file under the user's cache\n" +
		"directory ($XDG_CACHE_HOME or ~/.cache on Linux)/" + progName,
		boolFlag(func(o *options) *bool { return &o.noCache })},
	{"address", "URL", "where requests to the issuer go when ZITADEL is reached at another\n" +
		"address, such as http://zitadel.zitadel.svc:8080 in a cluster; they\n" +
		"name the instance by the " + serviceuser.HeaderInstanceHost + " header\n(default $" + envAddress + ")",
		stringFlag(func(o *options) *string { return &o.address }, "")},
	{flagInsecurePlainHTTP, "", "allow plain http to -issuer and -address on hosts that are not\n" +
		"loopback: anyone on the path can steal the credential and the tokens;\n" +
		"only for a network you control (default $" + envInsecurePlainHTTP + "=1)",
		boolFlag(func(o *options) *bool { return &o.allowPlainHTTP })},
	{"H", "'NAME: VALUE'", "extra header for the requests to ZITADEL, such as a proxy's; repeat it\n" +
		"for more headers", defineHeader},
	{"json", "", "print JSON instead of text", boolFlag(func(o *options) *bool { return &o.json })},
	{"lifetime", "D", "assertion lifetime, from 2m to the default",
		durationFlag(func(o *options) *time.Duration { return &o.lifetime }, serviceuser.MaxAssertionLifetime)},
	{"demo", "", "same as the demo subcommand", boolFlag(func(o *options) *bool { return &o.demo })},
}

func stringFlag(field func(*options) *string, def string) func(*flag.FlagSet, *options, string, string) {
	return func(fs *flag.FlagSet, o *options, name, usage string) { fs.StringVar(field(o), name, def, usage) }
}

func durationFlag(field func(*options) *time.Duration, def time.Duration) func(*flag.FlagSet, *options, string, string) {
	return func(fs *flag.FlagSet, o *options, name, usage string) { fs.DurationVar(field(o), name, def, usage) }
}

func boolFlag(field func(*options) *bool) func(*flag.FlagSet, *options, string, string) {
	return func(fs *flag.FlagSet, o *options, name, usage string) { fs.BoolVar(field(o), name, false, usage) }
}

// defineScope registers -scope, whose default is what scopeValues returns
// when no scope is given.
func defineScope(fs *flag.FlagSet, o *options, name, usage string) {
	fs.Var(&o.scopes, name, usage)
	fs.Lookup(name).DefValue = strings.Join(serviceuser.DefaultScopes(), " ")
}

func lookupFlag(name string) *flagSpec {
	for i := range flagTable {
		if flagTable[i].name == name {
			return &flagTable[i]
		}
	}
	panic("zitadel-token: no flag " + name + " in flagTable") // a mistake in the tables above
}

func lookupCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// flagSet returns the command's flags, bound to o.
func (c *command) flagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet(progName+" "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by fail, help by printHelp
	for _, name := range c.flags {
		spec := lookupFlag(name)
		spec.define(fs, o, spec.name, strings.ReplaceAll(spec.help, "\n", " "))
	}
	if f := fs.Lookup("scope"); f != nil {
		f.DefValue = strings.Join(c.defaultScopes(), " ")
	}
	return fs
}

// printHelp prints the command's own help: what it does and its flags.
func (c *command) printHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s %s [flags]%s\n\n%s.\n\nFlags:\n", progName, c.name, operandsText(c.operands), c.summary)
	fs := c.flagSet(&options{})
	for _, name := range c.flags {
		writeFlag(w, lookupFlag(name), fs.Lookup(name).DefValue, "")
	}
	fmt.Fprintf(w, "\nRun '%s help' for the exit codes and examples.\n", progName)
}

func operandsText(operands []string) string {
	if len(operands) == 0 {
		return ""
	}
	return " " + strings.Join(operands, " ")
}

// writeFlag prints one flag's help: its name and argument, then its text,
// its default and the subcommands that take it (when they are given).
func writeFlag(w io.Writer, spec *flagSpec, def, usedBy string) {
	lines := strings.Split(spec.help, "\n")
	if def != "" && def != "false" && def != "-" {
		lines[len(lines)-1] += " (default " + def + ")"
	}
	if usedBy != "" {
		lines = append(lines, "["+usedBy+"]")
	}
	head := "  -" + spec.name
	if spec.arg != "" {
		head += " " + spec.arg
	}
	const indent = 21
	if len(head) >= indent-1 {
		fmt.Fprintln(w, head)
		head = ""
	}
	for _, line := range lines {
		fmt.Fprintf(w, "%-*s%s\n", indent, head, line)
		head = ""
	}
}

// usedBy names the subcommands that take the flag.
func usedBy(name string) string {
	var names []string
	for _, c := range commands {
		if slices.Contains(c.flags, name) {
			names = append(names, c.name)
		}
	}
	return strings.Join(names, ", ")
}

// allFlags returns a flag set with every flag of the table, for their defaults.
func allFlags() *flag.FlagSet {
	fs := flag.NewFlagSet(progName, flag.ContinueOnError)
	o := &options{}
	for _, spec := range flagTable {
		spec.define(fs, o, spec.name, spec.help)
	}
	return fs
}

// printUsage prints the whole help: subcommands, flags, exit codes, examples.
func printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s <subcommand> [flags]\n\n", progName)
	fmt.Fprintf(w, "Obtains tokens for a ZITADEL machine user from its key file (JWT bearer grant),\n")
	fmt.Fprintf(w, "its client secret (client credentials) or a personal access token; calls the\n")
	fmt.Fprintf(w, "instance's APIs with them; checks a setup (doctor); and checks tokens at ZITADEL's\n")
	fmt.Fprintf(w, "introspection endpoint with an API application key.\n\n")
	fmt.Fprintf(w, "Subcommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, strings.ReplaceAll(c.summary, "\n", "\n"+strings.Repeat(" ", 13)))
	}
	fmt.Fprintf(w, "  %-10s %s\n\n", "help", "print this help (also -h, --help); 'help SUBCOMMAND' prints its flags")
	fmt.Fprintf(w, "Flags (%s SUBCOMMAND -h lists a subcommand's own):\n", progName)
	fs := allFlags()
	for i := range flagTable {
		spec := &flagTable[i]
		writeFlag(w, spec, fs.Lookup(spec.name).DefValue, usedBy(spec.name))
	}
	fmt.Fprint(w, exitCodesText)
}

const exitCodesText = `
Exit codes:
  0  success
  1  other failure
  2  usage error: unknown subcommand or flag, missing -key or -issuer, bad URL
     or header, plain http to a host that is not loopback without
     -insecure-allow-plain-http (refused before any request)
  3  credential problem: unreadable, invalid or expired key file, client
     secret or personal access token
     (inspect still prints the summary of an expired key)
  4  the server refused: error answer from the token, discovery, userinfo
     or introspection endpoint; api: HTTP 4xx (401 or 403: the token lacks
     the scope urn:zitadel:iam:org:project:id:zitadel:aud or the user a role;
     404: no such path or object, or the user has no manager role)
  5  no answer from the server: network error, timeout, or an answer cut off;
     api: HTTP 5xx (api exits 0 on 2xx)
  6  introspect: the token is not active (expired, revoked or unknown);
     the answer is still printed
  7  doctor: at least one check failed (each is one line on standard output)
  130, 143  ended by SIGINT (Ctrl-C) or SIGTERM

Examples:
  zitadel-token -key key.json -issuer https://my-instance.zitadel.cloud
  export ZITADEL_KEY=key.json ZITADEL_ISSUER=https://my-instance.zitadel.cloud
  zitadel-token token -json -scope "openid urn:zitadel:iam:org:project:id:zitadel:aud"
  zitadel-token userinfo
  zitadel-token api /management/v1/orgs/me
  zitadel-token api -X POST -d @org.json /management/v1/orgs
  zitadel-token api -issuer https://auth.example.com /management/v1/orgs/me \
    -address http://zitadel.zitadel.svc:8080 -insecure-allow-plain-http
  zitadel-token doctor -app-key app.json -scope "openid urn:zitadel:iam:org:project:id:PROJECT_ID:aud"
  ZITADEL_CLIENT_SECRET=... zitadel-token token -client-id my-machine-user
  zitadel-token userinfo -pat-file pat.txt
  zitadel-token inspect -key key.json
  zitadel-token token | zitadel-token introspect -key app.json -json
  zitadel-token demo
`
