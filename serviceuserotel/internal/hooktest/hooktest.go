// Package hooktest feeds every kind of hook event to hooks, for the
// adapters' tests.
package hooktest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/hooks"
)

// Errors are errors of every kind the library reports, with secret in every
// text they hold.
func Errors(secret string) []error {
	return []error{
		&serviceuser.TokenError{StatusCode: 400, Code: secret, Description: secret, Hint: secret, Endpoint: serviceuser.EndpointToken,
			Err: &oauth2.RetrieveError{ErrorCode: secret, ErrorDescription: secret, Body: []byte(secret)}},
		fmt.Errorf("refresh: %w", &serviceuser.TokenError{StatusCode: 500, Code: "server_error", Description: secret}),
		fmt.Errorf("key %s: %w", secret, context.DeadlineExceeded),
		errors.New(secret),
		&serviceuser.DiscoveryError{URL: "https://" + secret, StatusCode: 404, Problem: secret, Err: errors.New(secret)},
		&serviceuser.CredentialError{Kind: secret, Path: secret, Problem: secret, Err: errors.New(secret)},
		&serviceuser.KeyFileError{Field: secret, Problem: secret},
		&serviceuser.SignerError{Problem: secret, Err: errors.New(secret)},
		&serviceuser.ConfigError{Config: secret, Field: secret, Problem: secret},
	}
}

// FeedEverything sends every event, successful and failed with each of
// Errors(secret), with secret in every string field.
func FeedEverything(h *hooks.Hooks, secret string) {
	h = hooks.Join(h, &noop) // every callback set
	now := time.Now()
	h.RefreshStart(context.Background(), hooks.RefreshStartInfo{Waited: true, Attempt: 1})
	h.RefreshDone(context.Background(), hooks.RefreshDoneInfo{Waited: true, Attempt: 1, Duration: time.Second, Expiry: now.Add(time.Hour)})
	h.DiscoveryDone(context.Background(), hooks.DiscoveryDoneInfo{Issuer: "https://" + secret, Duration: time.Millisecond})
	h.CredentialReloaded(context.Background(), hooks.CredentialReloadedInfo{Path: secret, KeyID: secret})
	h.TokenRejected(context.Background(), hooks.TokenRejectedInfo{InvalidateCalled: true})
	h.IntrospectionDone(context.Background(), hooks.IntrospectionDoneInfo{CacheHit: true, Active: true})
	for i, err := range Errors(secret) {
		h.RefreshStart(context.Background(), hooks.RefreshStartInfo{Attempt: i + 1})
		h.RefreshDone(context.Background(), hooks.RefreshDoneInfo{Attempt: i + 1, Duration: time.Second, Err: err, NextAttempt: now.Add(time.Second)})
		h.DiscoveryDone(context.Background(), hooks.DiscoveryDoneInfo{Issuer: "https://" + secret, Err: err})
		h.CredentialReloaded(context.Background(), hooks.CredentialReloadedInfo{Path: secret, KeyID: secret, Err: err})
		h.IntrospectionDone(context.Background(), hooks.IntrospectionDoneInfo{Err: err})
	}
}

// noop sets every callback, so that joined hooks have them all.
var noop = hooks.Hooks{
	DiscoveryDone:      func(context.Context, hooks.DiscoveryDoneInfo) {},
	RefreshStart:       func(context.Context, hooks.RefreshStartInfo) {},
	RefreshDone:        func(context.Context, hooks.RefreshDoneInfo) {},
	TokenRejected:      func(context.Context, hooks.TokenRejectedInfo) {},
	CredentialReloaded: func(context.Context, hooks.CredentialReloadedInfo) {},
	IntrospectionDone:  func(context.Context, hooks.IntrospectionDoneInfo) {},
}
