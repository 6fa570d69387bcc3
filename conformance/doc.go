// Package conformance checks the serviceuser library against zitadel/oidc's
// own JWT profile verifier (the code ZITADEL runs), compares the fake server
// in serviceusertest with it, and benchmarks the library against its peers.
// It is a separate module so that its dependencies never reach the library's users.
package conformance
