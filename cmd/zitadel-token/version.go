package main

import (
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
	"strings"
)

func isVersionArg(arg string) bool {
	return arg == "version" || arg == "-version" || arg == "--version"
}

// printVersion prints the tool's version; it takes no arguments.
func printVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) != 0 {
		return fail(stderr, usageErrorf("version takes no arguments, not %s", quoteArg(strings.Join(args, " "))))
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionString(info))
	return exitOK
}

// pseudoVersion matches the end of a pseudo-version, the version the go
// command gives a commit that no tag names: a time and a commit hash.
var pseudoVersion = regexp.MustCompile(`[.-]\d{14}-[0-9a-f]{12}$`)

// develVersion is what a build from a source tree reports: the go command
// records no release version for it, and the tool does not guess the next.
const develVersion = "devel"

// versionString is the module version the binary was built as: v0.1.0 after
// "go install ...@v0.1.0", a pseudo-version after "go install ...@COMMIT".
// A build in a source tree, at a commit no release tags or with modified
// files, is a development build and says so, with the revision when the
// build recorded one.
func versionString(info *debug.BuildInfo) string {
	if info == nil {
		return develVersion
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			modified = ", modified"
		}
	}
	v := info.Main.Version
	release := strings.HasPrefix(v, "v") && !strings.HasSuffix(v, "+dirty")
	if release && (rev == "" || !pseudoVersion.MatchString(v)) {
		return v
	}
	if rev == "" {
		return develVersion
	}
	return fmt.Sprintf("%s (revision %.12s%s)", develVersion, rev, modified)
}
