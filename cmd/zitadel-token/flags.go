package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"time"
)

// flagSpec is one flag as the help shows it.
type flagSpec struct {
	name string
	arg  string // the value's name in the help; empty for a boolean flag
	help string // lines separated by \n
}

// flagTable is every flag of every subcommand, in the order the help lists
// them. A subcommand's options bind the flags it takes (see flagSet); the
// help shows a flag's default when it is not empty, false or "-".
var flagTable = []flagSpec{
	{"key", "PATH", "service user key file (JSON, as downloaded from ZITADEL);\n" +
		"for introspect, an API application key file instead"},
	{"key-env", "NAME", "environment variable holding the key file's JSON or its path;\n" +
		"when neither -key nor -key-env is given, $" + envKey + " is used if set"},
	{"client-id", "ID", "client id (login name) of a machine user with a client secret\n(default $" + envClientID + ")"},
	{"client-secret-file", "PATH", "file holding the client secret of -client-id; without it the secret\n" +
		"is read from $" + envClientSecret + " (never give a secret as a flag value)"},
	{"pat-file", "PATH", "file holding a personal access token, instead of a key\n(default: the token in $" + envPAT + ")"},
	{"issuer", "URL", "ZITADEL instance, e.g. https://my-instance.zitadel.cloud\n(default $" + envIssuer + ")"},
	{"scope", "SCOPE", "scope to request; repeat it or separate scopes with spaces"},
	{"token-url", "URL", "token endpoint, skipping discovery"},
	{"userinfo-url", "URL", "userinfo endpoint, skipping discovery"},
	{"token", "TOKEN", "the token to check; when absent or \"-\", it is read from\nstandard input"},
	{"introspection-url", "URL", "introspection endpoint, skipping discovery"},
	{"X", "METHOD", "HTTP method (default GET, or POST with -d)"},
	{"d", "BODY", "request body (JSON); @FILE reads it from a file, @- from standard input"},
	{"org", "ORGID", "organization the call acts on (sent as the x-zitadel-orgid header)"},
	{"app-key", "PATH", "API application key file: doctor checks that the application sees the\n" +
		"token active (request its project's audience with -scope)"},
	{"timeout", "D", "bound on each request to ZITADEL"},
	{"no-cache", "", "neither reuse nor store a token in the cache; without it a token is kept\n" +
		"until a minute before it expires, in a private file under the user's cache\n" +
		"directory ($XDG_CACHE_HOME or ~/.cache on Linux)/" + progName},
	{"address", "URL", "where requests to the issuer go when ZITADEL is reached at another\n" +
		"address, such as http://zitadel.zitadel.svc:8080 in a cluster; they\n" +
		"name the instance by the x-zitadel-instance-host header\n(default $" + envAddress + ")"},
	{flagInsecurePlainHTTP, "", "allow plain http to -issuer and -address on hosts that are not\n" +
		"loopback: anyone on the path can steal the credential and the tokens;\n" +
		"only for a network you control (default $" + envInsecurePlainHTTP + "=1)"},
	{"H", "'NAME: VALUE'", "extra header for the requests to ZITADEL, such as a proxy's; repeat it\n" +
		"for more headers"},
	{"json", "", "print JSON instead of text"},
	{"lifetime", "D", "assertion lifetime, from 2m to the default"},
}

func lookupFlag(name string) *flagSpec {
	for i := range flagTable {
		if flagTable[i].name == name {
			return &flagTable[i]
		}
	}
	panic("zitadel-token: no flag " + name + " in flagTable") // a mistake in the tables
}

// flagSet is a subcommand's flags, bound to the fields of its options,
// with their usage from flagTable.
type flagSet struct {
	*flag.FlagSet
	parsed []func(fs *flag.FlagSet) error
}

func newFlagSet(name string) *flagSet {
	fs := flag.NewFlagSet(progName+" "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by fail, help by printHelp
	return &flagSet{FlagSet: fs}
}

// usage is the flag's help on one line, as the flag package keeps it.
func usage(name string) string { return strings.ReplaceAll(lookupFlag(name).help, "\n", " ") }

func (fs *flagSet) stringVar(p *string, name, def string) { fs.StringVar(p, name, def, usage(name)) }

func (fs *flagSet) boolVar(p *bool, name string) { fs.BoolVar(p, name, false, usage(name)) }

func (fs *flagSet) durationVar(p *time.Duration, name string, def time.Duration) {
	fs.DurationVar(p, name, def, usage(name))
}

func (fs *flagSet) valueVar(v flag.Value, name string) { fs.Var(v, name, usage(name)) }

// afterParse adds what to do once the flags are parsed, such as taking a
// default from the environment.
func (fs *flagSet) afterParse(f func(fs *flag.FlagSet) error) { fs.parsed = append(fs.parsed, f) }

// parse parses args and returns the operands, at most max of them; flags
// may follow an operand, as in "api PATH -org ID".
func (fs *flagSet) parse(args []string, max int) ([]string, error) {
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, withCode(exitUsage, err)
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
	for _, f := range fs.parsed {
		if err := f(fs.FlagSet); err != nil {
			return nil, err
		}
	}
	return operands, nil
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
