package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/scope"
)

// ZITADEL's answers that the tool explains, as measured on v4.13.1.
const (
	// 404 {"code":5,"message":"membership not found (AUTHZ-cdgFk)"}: the
	// user has no manager role at all.
	zitadelNoMembership = "AUTHZ-cdgFk"
	// 403 {"code":7,"message":"No matching permissions found (AUTH-5mWD2)"}:
	// the user's role lacks the call's permission.
	zitadelNoPermission = "AUTH-5mWD2"
	// 404 "unable to set instance using origin &{HOST  http} (ExternalDomain
	// is DOMAIN): ... Instance not found. ...": the request's host is not the
	// instance's domain.
	zitadelNoInstance = "Instance not found"
)

// maxAnswerText bounds what the tool reads of an error answer to explain it.
const maxAnswerText = 4 << 10

// answerText is ZITADEL's message in an error answer: the "message" of the
// REST gateway's JSON, or else the answer's text; bounded.
func answerText(body []byte) string {
	body = body[:min(len(body), 16*maxAnswerText)]
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return truncate(e.Message, maxAnswerText)
	}
	return truncate(string(body), maxAnswerText)
}

// apiHint says what usually causes an API answer of status with body, to
// a call acting on the organization orgID (-org) when given.
func (o *tokenFlags) apiHint(status int, body []byte, orgID string) string {
	text := answerText(body)
	scopes := o.scopeValues()
	switch {
	case status == http.StatusNotFound && strings.Contains(text, zitadelNoInstance):
		return o.instanceNotFound(text)
	case (status == http.StatusUnauthorized || status == http.StatusForbidden) && !slices.Contains(scopes, scope.ZitadelAPI):
		return "the token lacks ZITADEL's API in its audience: request the scope " + scope.ZitadelAPI
	case status == http.StatusUnauthorized:
		return "the token was refused: it expired, was revoked, or the user was deactivated"
	case status == http.StatusNotFound && strings.Contains(text, zitadelNoMembership):
		return `the user has no manager role (ZITADEL: "membership not found")` + inOrg(orgID) +
			": grant it a manager role, such as ORG_OWNER, in the console"
	case status == http.StatusForbidden && strings.Contains(text, zitadelNoPermission):
		return `the user's manager role lacks the permission for this call (ZITADEL: "No matching permissions found")` +
			inOrg(orgID) + ": grant it a role that has it, such as ORG_OWNER, in the console"
	case status == http.StatusForbidden:
		return "the user lacks a role for this call: grant it a manager role (such as ORG_OWNER) in the console"
	case status == http.StatusNotFound:
		return "no such path or object: check PATH, and -org for objects of another organization"
	}
	return ""
}

// inOrg names the organization a role is missing in, when -org chose it.
func inOrg(orgID string) string {
	if orgID == "" {
		return ""
	}
	return " in the organization " + quoted(orgID) + " that -org names"
}

// Parts of ZITADEL's "Instance not found" text: the host it was asked for
// and the domain it is configured with.
var (
	askedHostPattern      = regexp.MustCompile(`using origin &\{([^\s}]+)`)
	externalDomainPattern = regexp.MustCompile(`\(ExternalDomain is ([^\s)]+)\)`)
	hostnamePattern       = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$`)
)

// instanceNotFound explains ZITADEL's "Instance not found", whose text
// names the host it was asked for and its own domain: -issuer's host must
// be that domain. Without -address, the usual cause is an internal address
// given as -issuer.
func (o *zitadelFlags) instanceNotFound(text string) string {
	issuer, _ := url.Parse(o.issuerBase())
	asked := ""
	if issuer != nil {
		asked = issuer.Host
	}
	if m := askedHostPattern.FindStringSubmatch(text); m != nil {
		asked = m[1]
	}
	domain, example := "", ""
	if m := externalDomainPattern.FindStringSubmatch(text); m != nil {
		domain = m[1]
		if issuer != nil && hostnamePattern.MatchString(domain) {
			host := domain
			if port := issuer.Port(); port != "" {
				host = net.JoinHostPort(domain, port)
			}
			example = issuer.Scheme + "://" + host
		}
	}
	named := ""
	if domain != "" {
		named = "; its domain is " + quoted(domain)
	}
	if o.address != "" {
		msg := fmt.Sprintf("ZITADEL, reached through -address %s, has no instance named %s (%q%s): "+
			"-issuer's host must be the instance's domain exactly", o.addressBase(), quoted(asked), zitadelNoInstance, named)
		if example != "" {
			msg += ", such as -issuer " + example
		}
		return msg
	}
	msg := fmt.Sprintf("ZITADEL has no instance at the host %s (%q%s): the issuer's host must be the instance's "+
		"domain exactly, not an IP address or another name; ", quoted(asked), zitadelNoInstance, named)
	if example != "" {
		return msg + fmt.Sprintf("give -issuer %s (or that domain with the port ZITADEL is published on), "+
			"and -address %s to keep reaching ZITADEL at this address", example, o.issuerBase())
	}
	return msg + "to reach ZITADEL at this address, give the instance's public URL as -issuer and -address " + o.issuerBase()
}

// explainedError is a library error the tool explains in its own words,
// in flags rather than config fields; it unwraps to the library's error.
type explainedError struct {
	err error
	msg string
}

func (e *explainedError) Error() string { return e.msg }
func (e *explainedError) Unwrap() error { return e.err }

// explain puts ZITADEL's "Instance not found", in a library error, in the
// tool's words; other errors are returned as they are.
func (o *zitadelFlags) explain(err error) error {
	var de *serviceuser.DiscoveryError
	var te *serviceuser.TokenError
	switch {
	case errors.As(err, &de) && de.StatusCode == http.StatusNotFound && strings.Contains(de.Problem, zitadelNoInstance):
		return &explainedError{err, "discovery answered HTTP 404: " + o.instanceNotFound(de.Problem)}
	case errors.As(err, &te) && te.StatusCode == http.StatusNotFound && strings.Contains(te.Description, zitadelNoInstance):
		endpoint := te.Endpoint
		if endpoint == "" {
			endpoint = serviceuser.EndpointToken
		}
		return &explainedError{err, fmt.Sprintf("the %s endpoint answered HTTP 404: %s", endpoint, o.instanceNotFound(te.Description))}
	}
	return err
}

// requestFailed is the error of a request to ZITADEL, explained and
// classified: "no answer" when an answer was cut off while its body was
// read, since the library then reports the status of an answer that never
// arrived whole.
func (o *zitadelFlags) requestFailed(err error) error {
	err = o.explain(err)
	if o.watch.cutOff() {
		return withCode(exitNetwork, err)
	}
	return classified(err)
}

// refused is an unusable answer from an endpoint the tool calls itself.
func refused(msg string) error { return withCode(exitRefused, errors.New(msg)) }
