package main

import (
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-serviceuser/serviceuser"
)

func usageText() string {
	var b strings.Builder
	printUsage(&b)
	return b.String()
}

func TestHelp(t *testing.T) {
	f := &fixture{}
	usage := usageText()
	for _, args := range [][]string{{"help"}, {"-h"}, {"-help"}, {"--help"}} {
		r := f.run(t, nil, args...)
		checkCode(t, r, exitOK)
		if r.stdout != usage {
			t.Errorf("%v prints another text than help:\n%s", args, r.stdout)
		}
	}
	for _, c := range commands {
		if !strings.Contains(usage, "\n  "+c.name+" ") {
			t.Errorf("usage does not list subcommand %s", c.name)
		}
		fs, _ := c.flagSet(&invocation{})
		fs.VisitAll(func(fl *flag.Flag) {
			if !strings.Contains(usage, "\n  -"+fl.Name+" ") && !strings.Contains(usage, "\n  -"+fl.Name+"\n") {
				t.Errorf("usage does not describe flag -%s", fl.Name)
			}
		})
	}
	for code := exitOK; code <= exitChecks; code++ {
		if !strings.Contains(usage, fmt.Sprintf("\n  %d  ", code)) {
			t.Errorf("usage does not document exit code %d", code)
		}
	}
	for _, want := range []string{"130", "143", "(default 10s)", "(default openid)"} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}

// helpFlag matches the line that starts a flag's description.
var helpFlag = regexp.MustCompile(`(?m)^  -([A-Za-z-]+)\b`)

// flagNames lists the flags that a help text describes, in order.
func flagNames(help string) []string {
	var names []string
	for _, m := range helpFlag.FindAllStringSubmatch(help, -1) {
		names = append(names, m[1])
	}
	return names
}

func TestSubcommandHelp(t *testing.T) {
	f := &fixture{}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			r := f.run(t, nil, c.name, "-h")
			checkCode(t, r, exitOK)
			if got := flagNames(r.stdout); !slices.Equal(got, c.flagNames()) {
				t.Errorf("%s -h describes flags %q, want %q:\n%s", c.name, got, c.flagNames(), r.stdout)
			}
			if got, want := slices.Sorted(slices.Values(c.flagNames())), subcommandFlags[c.name]; !slices.Equal(got, want) {
				t.Errorf("%s takes the flags %q, want %q", c.name, got, want)
			}
			if !strings.HasPrefix(r.stdout, "Usage: zitadel-token "+c.name+" [flags]"+operandsText(c.operands)+"\n") {
				t.Errorf("%s -h:\n%s", c.name, r.stdout)
			}
			if again := f.run(t, nil, "help", c.name); again.code != exitOK || again.stdout != r.stdout {
				t.Errorf("help %s differs from %s -h: %q", c.name, c.name, again.stdout)
			}
		})
	}
	if got := flagNames(f.run(t, nil, "token", "-h").stdout); slices.Contains(got, "lifetime") || slices.Contains(got, "userinfo-url") {
		t.Errorf("token -h describes other subcommands' flags: %q", got)
	}
	r := f.run(t, nil, "timeout", "-h")
	checkCode(t, r, exitUsage)
	checkCode(t, f.run(t, nil, "help", "frobnicate"), exitUsage)
}

// The defaults come from the library, not from copies of its values.
func TestFlagDefaults(t *testing.T) {
	fs, opts := lookupCommand("token").flagSet(&invocation{})
	o := opts.(*tokenOptions)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if o.timeout != serviceuser.DefaultTimeout || !slices.Equal(o.scopeValues(), serviceuser.DefaultScopes()) {
		t.Errorf("timeout %s, scopes %q; want the library's defaults", o.timeout, o.scopeValues())
	}
	if fs.Lookup("scope").DefValue != strings.Join(serviceuser.DefaultScopes(), " ") {
		t.Errorf("-scope shows default %q", fs.Lookup("scope").DefValue)
	}
	fs, opts = lookupCommand("assertion").flagSet(&invocation{})
	a := opts.(*assertionOptions)
	if err := fs.Parse(nil); err != nil || a.lifetime != time.Hour {
		t.Errorf("-lifetime defaults to %s, want 1h, the longest ZITADEL documents (%v)", a.lifetime, err)
	}
}

func TestScopeFlag(t *testing.T) {
	fs, opts := lookupCommand("token").flagSet(&invocation{})
	o := opts.(*tokenOptions)
	if err := fs.Parse([]string{"-scope", " openid  profile ", "-scope", "email"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"openid", "profile", "email"}; !slices.Equal(o.scopeValues(), want) {
		t.Errorf("scopes %q, want %q", o.scopeValues(), want)
	}
	if got := (&tokenFlags{}).scopeValues(); !slices.Equal(got, []string{"openid"}) {
		t.Errorf("default scopes %q", got)
	}
	if err := fs.Parse([]string{"-scope", " "}); err == nil {
		t.Error("an empty -scope was accepted")
	}
}

// subcommandFlags are the flags each subcommand takes, sorted.
var subcommandFlags = map[string][]string{
	"token": sortedFlags("key", "key-env", "client-id", "client-secret-file", "pat-file", "issuer", "scope", "token-url",
		"timeout", "json", "no-cache", "address", flagInsecurePlainHTTP, "H"),
	"assertion": sortedFlags("key", "key-env", "issuer", "lifetime"),
	"inspect":   sortedFlags("key", "key-env", "json"),
	"userinfo": sortedFlags("key", "key-env", "client-id", "client-secret-file", "pat-file", "issuer", "scope", "token-url",
		"userinfo-url", "timeout", "no-cache", "address", flagInsecurePlainHTTP, "H"),
	"api": sortedFlags("key", "key-env", "client-id", "client-secret-file", "pat-file", "issuer", "scope", "token-url",
		"X", "d", "org", "timeout", "no-cache", "address", flagInsecurePlainHTTP, "H"),
	"doctor": sortedFlags("key", "key-env", "client-id", "client-secret-file", "pat-file", "issuer", "scope", "token-url",
		"org", "app-key", "timeout", "address", flagInsecurePlainHTTP, "H"),
	"introspect": sortedFlags("key", "key-env", "issuer", "token", "introspection-url", "timeout", "json",
		"address", flagInsecurePlainHTTP, "H"),
}

func sortedFlags(names ...string) []string { return slices.Sorted(slices.Values(names)) }
