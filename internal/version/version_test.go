package version

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// semverNumber is a numeric part of a semantic version: no leading zero.
const semverNumber = `(0|[1-9][0-9]*)`

// semverIdent is a pre-release identifier: a number without a leading zero,
// or alphanumerics with at least one non-digit.
const semverIdent = `(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)`

// canonical is a canonical semantic version as the go command writes one:
// a leading v, major.minor.patch, an optional pre-release and no build
// metadata (golang.org/x/mod/semver.Canonical drops it).
var canonical = regexp.MustCompile(`^v` + semverNumber + `\.` + semverNumber + `\.` + semverNumber +
	`(-` + semverIdent + `(\.` + semverIdent + `)*)?$`)

// release is what a release is tagged as: vX.Y.Z, without pre-release.
var release = regexp.MustCompile(`^v` + semverNumber + `\.` + semverNumber + `\.` + semverNumber + `$`)

// TestShapes: the expressions tell versions from look-alikes, so that
// TestNext can fail.
func TestShapes(t *testing.T) {
	for v, want := range map[string][2]bool{ // canonical, release
		"v0.1.0": {true, true}, "v1.0.0": {true, true}, "v10.20.30": {true, true},
		"v1.2.3-rc.1": {true, false}, "v0.1.0-devel": {true, false}, "v1.2.3-0.20261207195325-518d2af77cb1": {true, false},
		"0.1.0": {false, false}, "v0.1": {false, false}, "v1": {false, false}, "V0.1.0": {false, false}, "v01.0.0": {false, false},
		"v0.01.0": {false, false}, "v1.2.3+meta": {false, false}, "v1.2.3-rc.01": {false, false}, "v1.2.3-": {false, false},
		"v1.2.3-rc..1": {false, false}, " v0.1.0": {false, false}, "v0.1.0\n": {false, false}, "": {false, false},
	} {
		assert.Equal(t, want[0], canonical.MatchString(v), "canonical %q", v)
		assert.Equal(t, want[1], release.MatchString(v), "release %q", v)
	}
}

// TestNext: Next is a release version, vX.Y.Z, as release tags are; a
// development build reports Next+"-devel", which is then a canonical
// pre-release of it.
func TestNext(t *testing.T) {
	assert.Regexp(t, canonical, Next)
	assert.Regexp(t, release, Next, "a release is tagged vX.Y.Z, without pre-release")
	assert.Regexp(t, canonical, Next+"-devel")
}

// TestNextIsReadableFromSource: the release scripts read Next from this
// file's text, not from a build: it must stay a single-line string constant.
func TestNextIsReadableFromSource(t *testing.T) {
	src, err := os.ReadFile("version.go")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^const Next = "(v[0-9][^"]*)"$`).FindSubmatch(src)
	if assert.NotNil(t, line, `version.go has no line 'const Next = "vX.Y.Z"'`) {
		assert.Equal(t, Next, string(line[1]))
	}
}
