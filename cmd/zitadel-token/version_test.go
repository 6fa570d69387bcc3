package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	const rev = "518d2af77cb1f66b7a0f583fb14b1e0f8dfea71b"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	devel := "devel"
	tests := []struct {
		name     string
		version  string
		settings []debug.BuildSetting
		want     string
	}{
		{"go install @v0.1.0", "v0.1.0", nil, "v0.1.0"},
		{"go install @v1.2.3-rc.1", "v1.2.3-rc.1", nil, "v1.2.3-rc.1"},
		{"go install @COMMIT", "v0.1.1-0.20261207195325-518d2af77cb1", nil, "v0.1.1-0.20261207195325-518d2af77cb1"},
		{"go build at a tag", "v0.1.0", vcs("false"), "v0.1.0"},
		{"go build past a tag", "v0.1.1-0.20261207195325-518d2af77cb1", vcs("false"), devel + " (revision 518d2af77cb1)"},
		{"go build without tags", "v0.0.0-20261207195325-518d2af77cb1", vcs("false"), devel + " (revision 518d2af77cb1)"},
		{"go build, modified", "v0.1.0+dirty", vcs("true"), devel + " (revision 518d2af77cb1, modified)"},
		{"go build -buildvcs=false", "(devel)", nil, devel},
		{"no version", "", nil, devel},
	}
	for _, tt := range tests {
		info := &debug.BuildInfo{Main: debug.Module{Path: "github.com/go-serviceuser/serviceuser", Version: tt.version}, Settings: tt.settings}
		if got := versionString(info); got != tt.want {
			t.Errorf("%s: versionString(%q) = %q, want %q", tt.name, tt.version, got, tt.want)
		}
	}
	if got := versionString(nil); got != devel {
		t.Errorf("without build information: %q, want %q", got, devel)
	}
}

func TestVersion(t *testing.T) {
	f := &fixture{}
	info, _ := debug.ReadBuildInfo()
	want := versionString(info) + "\n"
	for _, arg := range []string{"version", "-version", "--version"} {
		r := f.run(t, nil, arg)
		checkCode(t, r, exitOK)
		if r.stdout != want {
			t.Errorf("%s printed %q, want %q", arg, r.stdout, want)
		}
	}
	checkCode(t, f.run(t, nil, "version", "-json"), exitUsage)
}

// The built tool is a development build, and says so on one line.
func TestBinaryVersion(t *testing.T) {
	f := &fixture{}
	for _, arg := range []string{"version", "-version"} {
		r := f.runBinary(t, nil, arg)
		checkCode(t, r, exitOK)
		if !strings.HasPrefix(r.stdout, "devel") || strings.Count(r.stdout, "\n") != 1 {
			t.Errorf("%s printed %q, want one line starting devel", arg, r.stdout)
		}
	}
}
