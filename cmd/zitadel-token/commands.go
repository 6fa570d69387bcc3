package main

import (
	"context"
	"io"

	"github.com/go-serviceuser/serviceuser/scope"
)

// options are one subcommand's options: its flags, which define binds, and
// what it does with them.
type options interface {
	define(fs *flagSet)
	run(ctx context.Context, x *invocation, stdout io.Writer) error
}

// command is a subcommand as the tool offers it.
type command struct {
	name    string
	summary string
	// operands names the arguments after the flags, such as "PATH".
	operands []string
	// newOptions makes the subcommand's options for one run.
	newOptions func(x *invocation) options
}

// apiScopes are what api and doctor request by default: the Management
// API refuses tokens without ZITADEL's project in their audience.
var apiScopes = []string{"openid", scope.ZitadelAPI}

// commands lists the subcommands in the order the usage text shows them.
var commands = []command{
	{name: "token", summary: "print an access token (the default when the first argument is a flag)",
		newOptions: func(x *invocation) options { return &tokenOptions{tokenFlags: newTokenFlags(x, nil)} }},
	{name: "assertion", summary: "print a signed JWT assertion for the key, like zitadel-tools key2jwt",
		newOptions: func(*invocation) options { return &assertionOptions{} }},
	{name: "inspect", summary: "print what the key file holds, without the private key (no -issuer needed)",
		newOptions: func(*invocation) options { return &inspectOptions{} }},
	{name: "userinfo", summary: "fetch a token and print the userinfo endpoint's JSON answer",
		newOptions: func(x *invocation) options { return &userinfoOptions{tokenFlags: newTokenFlags(x, nil)} }},
	{name: "api", summary: "send an authenticated request to the instance's APIs, PATH relative to the issuer\n" +
		"(such as /management/v1/orgs/me), and print the answer: JSON indented, with control\n" +
		"characters in its strings escaped; any other answer as it came, escaped on a terminal;\n" +
		"see the exit codes",
		operands:   []string{"PATH"},
		newOptions: func(x *invocation) options { return &apiOptions{tokenFlags: newTokenFlags(x, apiScopes)} }},
	{name: "doctor", summary: "check the setup step by step and say what to fix: discovery, clocks,\n" +
		"the credential, each scope, the Management API and, with -app-key, introspection",
		newOptions: func(x *invocation) options { return &doctorOptions{tokenFlags: newTokenFlags(x, apiScopes)} }},
	{name: "introspect", summary: "ask ZITADEL whether a token is active, with an API application key",
		newOptions: func(x *invocation) options { return &introspectOptions{zitadelFlags: newZitadelFlags(x)} }},
}

func lookupCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// flagSet returns the command's options for x, with their flags.
func (c *command) flagSet(x *invocation) (*flagSet, options) {
	sub := c.newOptions(x)
	fs := newFlagSet(c.name)
	sub.define(fs)
	return fs, sub
}

// flagNames lists the command's flags in the order of flagTable.
func (c *command) flagNames() []string {
	fs, _ := c.flagSet(&invocation{})
	var names []string
	for _, spec := range flagTable {
		if fs.Lookup(spec.name) != nil {
			names = append(names, spec.name)
		}
	}
	return names
}
