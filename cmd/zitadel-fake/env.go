package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Variables printed. ZITADEL_ISSUER, ZITADEL_KEY (a path) and
// ZITADEL_CLIENT_ID are the names zitadel-token and examples/demo read;
// secrets are passed as files (the _FILE variables), never as values;
// ZITADEL_FAKE_* belong to this command.
const (
	envIssuer           = "ZITADEL_ISSUER"
	envKey              = "ZITADEL_KEY"
	envAPIKey           = "ZITADEL_API_KEY"
	envProjectID        = "ZITADEL_PROJECT_ID"
	envClientID         = "ZITADEL_CLIENT_ID"
	envClientSecretFile = "ZITADEL_CLIENT_SECRET_FILE"
	envPATFile          = "ZITADEL_PAT_FILE"
	envAdmin            = "ZITADEL_FAKE_ADMIN"
	envPID              = "ZITADEL_FAKE_PID"
)

// variable is one line of the printed environment.
type variable struct{ name, value string }

// environment lists the variables that point to the fake and its
// credentials. admin is the admin endpoint's base URL, "" for none.
func environment(issuer, admin string, c *credentials, pid int) []variable {
	vars := []variable{
		{envIssuer, issuer},
		{envKey, c.keyPath},
		{envAPIKey, c.apiKeyPath},
		{envProjectID, c.projectID},
		{envClientID, c.clientID},
		{envClientSecretFile, c.secretPath},
		{envPATFile, c.patPath},
	}
	if admin != "" {
		vars = append(vars, variable{envAdmin, admin})
	}
	return append(vars, variable{envPID, strconv.Itoa(pid)})
}

// printEnv writes one "export NAME=value" line per variable, quoted for
// POSIX shells, for eval.
func printEnv(w io.Writer, vars []variable) error {
	var b strings.Builder
	for _, v := range vars {
		fmt.Fprintf(&b, "export %s=%s\n", v.name, shellQuote(v.value))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// shellQuote returns s as one word of a POSIX shell: as is when it holds
// only characters no shell treats specially, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@%+,=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
