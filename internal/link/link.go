// Package link carries what package serviceuser lends the packages beside it
// (introspection) without making it part of its API: its assertion signer
// and its error types, which carry hints only it knows. serviceuser sets
// every variable in its init; the packages that use them import serviceuser,
// so the variables are set before any of their code runs.
package link

import (
	"time"

	"github.com/go-serviceuser/serviceuser/internal/answer"
	"github.com/go-serviceuser/serviceuser/internal/discovery"
)

// Signer signs an RFC 7523 assertion for audience, issued at now.
type Signer func(audience string, now time.Time) (string, error)

var (
	// ClientAssertionSigner returns the signer of key, a *serviceuser.KeyFile
	// with its private key; it builds the signer once.
	ClientAssertionSigner func(key any) (Signer, error)
	// TokenError turns a failed request into a *serviceuser.TokenError.
	TokenError func(*answer.Error) error
	// DiscoveryError turns a failed discovery into a *serviceuser.DiscoveryError.
	DiscoveryError func(*discovery.Error) error
)
