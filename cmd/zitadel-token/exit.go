package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/go-serviceuser/serviceuser"
)

// exitError is a failure with the exit code of its class (the exit...
// constants), given where the failure is classified: by the check that
// finds it, or by classified for what the library and the network return.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode classifies err with the exit code code.
func withCode(code int, err error) error { return &exitError{code, err} }

// usageErrorf is a problem with the command line or the configuration.
func usageErrorf(format string, args ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, args...))
}

// exitCode is the exit code of err's class: that of the outermost
// *exitError, or exitFailure for an error nothing classified.
func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

// classified returns err, an error of the library or of a request to
// ZITADEL, classified by its kind; an error already classified keeps its
// class.
func classified(err error) error {
	var ee *exitError
	if err == nil || errors.As(err, &ee) {
		return err
	}
	var (
		cr *serviceuser.CredentialError
		ce *serviceuser.ConfigError
		te *serviceuser.TokenError
		de *serviceuser.DiscoveryError
	)
	switch {
	case errors.Is(err, serviceuser.ErrInsecureURL):
		return withCode(exitUsage, err)
	case errors.As(err, &cr), errors.Is(err, serviceuser.ErrPATExpired), errors.Is(err, serviceuser.ErrInvalidKeyFile),
		errors.Is(err, serviceuser.ErrKeyExpired):
		return withCode(exitKey, err)
	case errors.As(err, &ce) && ce.Field == "Key":
		return withCode(exitKey, err)
	case errors.As(err, &ce):
		return withCode(exitUsage, err)
	case errors.As(err, &te):
		return withCode(answered(te.StatusCode), err)
	case errors.As(err, &de):
		return withCode(answered(de.StatusCode), err)
	case isNetworkError(err):
		return withCode(exitNetwork, err)
	}
	return err
}

// answered maps the status of a library error: 0 means there was no answer.
func answered(status int) int {
	if status == 0 {
		return exitNetwork
	}
	return exitRefused
}

func isNetworkError(err error) bool {
	var ne net.Error
	var ue *url.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) || errors.As(err, &ue)
}

// fail reports err on one line of stderr and returns its exit code.
func fail(stderr io.Writer, err error) int {
	msg := errorText(err)
	if strings.Contains(msg, "PRIVATE KEY") { // a value echoed back by a parser
		msg = "the error message is withheld: it would repeat key material"
	}
	code := exitCode(err)
	if code == exitUsage {
		msg += " (run '" + progName + " help' for usage)"
	}
	fmt.Fprintf(stderr, "%s: %s\n", progName, msg)
	return code
}

// withheld replaces err's message when it would repeat one of secrets.
func withheld(err error, secrets []string) error {
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			return &secretError{err}
		}
	}
	return err
}

// secretError is an error whose message is not shown: it holds a secret.
type secretError struct{ err error }

func (e *secretError) Error() string {
	return "the error message is withheld: it would repeat a secret"
}
func (e *secretError) Unwrap() error { return e.err }

// quoteArg quotes a command-line argument for an error message, unless it
// is long or looks like key file content, which must not be echoed.
func quoteArg(s string) string {
	if len(s) > 64 || strings.ContainsAny(s, "{}\n\r") || strings.Contains(s, "PRIVATE KEY") {
		return "(value not shown)"
	}
	return fmt.Sprintf("%q", s)
}
