package main

import (
	"fmt"
	"io"
	"strings"
)

// printHelp prints the command's own help: what it does and its flags.
func (c *command) printHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s %s [flags]%s\n\n%s.\n\nFlags:\n", progName, c.name, operandsText(c.operands), c.summary)
	fs, _ := c.flagSet(&invocation{})
	for _, name := range c.flagNames() {
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
	fmt.Fprintf(w, "  %-10s %s\n", "help", "print this help (also -h, --help); 'help SUBCOMMAND' prints its flags")
	fmt.Fprintf(w, "  %-10s %s\n\n", "version", "print the tool's version (also -version, --version)")
	fmt.Fprintf(w, "Flags (%s SUBCOMMAND -h lists a subcommand's own):\n", progName)
	defaults, usedBy := map[string]string{}, map[string][]string{}
	for i := range commands {
		fs, _ := commands[i].flagSet(&invocation{})
		for _, name := range commands[i].flagNames() {
			if _, ok := defaults[name]; !ok { // the first subcommand's, such as token's scopes
				defaults[name] = fs.Lookup(name).DefValue
			}
			usedBy[name] = append(usedBy[name], commands[i].name)
		}
	}
	for i := range flagTable {
		spec := &flagTable[i]
		writeFlag(w, spec, defaults[spec.name], strings.Join(usedBy[spec.name], ", "))
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
`
