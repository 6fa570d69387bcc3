// Package version holds the version that the repository's modules are
// released as next.
package version

// Next is the version of the next release of every module of the repository.
// .ci/release reads it here and tags it (vX.Y.Z for the root module, DIR/vX.Y.Z
// for the module in DIR), and .ci/release-check builds its module proxy at it.
const Next = "v0.1.0"
