package main

import (
	"errors"
	"flag"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseArgsDefaults(t *testing.T) {
	o, err := parseArgs(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := options{listen: "127.0.0.1:8080", admin: "127.0.0.1:0", status: 500,
		knobs: settings{TokenLifetime: defaultTokenLifetime}}
	if *o != want {
		t.Errorf("defaults %+v, want %+v", *o, want)
	}
}

func TestParseArgsKnobs(t *testing.T) {
	o, err := parseArgs(strings.Fields("-listen :0 -admin= -dir d -domain localhost:9 -latency 200ms -fail 3 "+
		"-fail-status 503 -projection-delay 50ms -token-lifetime -5s -clock-offset -30s -legacy-errors"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := options{listen: ":0", admin: "", dir: "d", domain: "localhost:9", fail: 3, status: 503,
		knobs: settings{Latency: 200 * time.Millisecond, ProjectionDelay: 50 * time.Millisecond,
			TokenLifetime: -5 * time.Second, ClockOffset: -30 * time.Second, LegacyErrors: true}}
	if *o != want {
		t.Errorf("got %+v, want %+v", *o, want)
	}
}

func TestParseArgsRefuses(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"-listen 8080", `-listen "8080" is not host:port`},
		{"-admin localhost", `-admin "localhost" is not host:port`},
		{"-domain http://x:1", `-domain "http://x:1" is not host:port`},
		{"-fail -1", "-fail -1 is negative"},
		{"-fail-status 700", "-fail-status: status 700 is not between 200 and 599"},
		{"-latency -1s", "latency -1s is negative"},
		{"-projection-delay -1s", "projection delay -1s is negative"},
		{"-latency soon", `invalid value "soon" for flag -latency`},
		{"-nope", "flag provided but not defined: -nope"},
		{"serve", `unexpected argument "serve"`},
	} {
		_, err := parseArgs(strings.Fields(c.args), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.args, err, c.want)
		}
	}
}

func TestHelpDocumentsEverything(t *testing.T) {
	var out strings.Builder
	if _, err := parseArgs([]string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	help := out.String()
	names := []string{envIssuer, envKey, envAPIKey, envProjectID, envClientID, envClientSecretFile, envPATFile, envAdmin, envPID,
		fileServiceUser, fileAPIApp, fileClientSecret, filePAT}
	for _, p := range []string{"latency", "fail", "projection-delay", "token-lifetime", "clock-offset", "legacy-errors", "stats"} {
		names = append(names, adminPrefix+p)
	}
	for _, n := range names {
		if !strings.Contains(help, n) {
			t.Errorf("-h does not mention %q", n)
		}
	}
	for _, f := range []string{"listen", "admin", "dir", "domain", "latency", "fail", "fail-status", "projection-delay",
		"token-lifetime", "clock-offset", "legacy-errors"} {
		if !regexp.MustCompile(`\n  -` + f + `[ \n]`).MatchString(help) {
			t.Errorf("-h does not document -%s", f)
		}
	}
}
