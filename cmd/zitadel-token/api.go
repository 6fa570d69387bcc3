package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// maxAPIAnswer bounds the answer api reads and prints.
const maxAPIAnswer = 64 << 20

// maxAPIBody bounds the request body api sends (-d); ZITADEL's gRPC
// services take messages of 4 MiB by default.
const maxAPIBody = 16 << 20

// apiOptions are the flags of api.
type apiOptions struct {
	tokenFlags
	noCache bool
	method  string
	data    string
	orgID   string
}

func (o *apiOptions) define(fs *flagSet) {
	o.tokenFlags.define(fs)
	fs.boolVar(&o.noCache, "no-cache")
	fs.stringVar(&o.method, "X", "")
	fs.stringVar(&o.data, "d", "")
	fs.stringVar(&o.orgID, "org", "")
}

// run sends one authenticated request to the instance and prints the
// answer, JSON pretty-printed. A status other than 2xx is an *apiError
// after the answer is printed, so that a script sees both.
func (o *apiOptions) run(ctx context.Context, x *invocation, stdout io.Writer) error {
	path, err := apiPath(x.operands)
	if err != nil {
		return err
	}
	req, err := o.apiRequest(ctx, path, x.stdin)
	if err != nil {
		return err
	}
	cred, err := o.loadCredential(x, true)
	if err != nil {
		return err
	}
	tok, err := o.obtainToken(ctx, cred, o.scopeValues(), o.noCache)
	if err != nil {
		return err
	}
	status, body, err := o.send(req, tok, o.orgID)
	if err != nil {
		return err
	}
	if err := printAnswer(stdout, body); err != nil {
		return err
	}
	return o.apiStatus(status, body)
}

// apiPath checks the PATH operand: a path on the issuer's host, never an
// address that would take the token elsewhere.
func apiPath(operands []string) (string, error) {
	if len(operands) == 0 {
		return "", usageErrorf("missing PATH, such as /management/v1/orgs/me")
	}
	p := operands[0]
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, " \t\r\n") {
		return "", usageErrorf("PATH %s must start with a single / and is relative to the issuer, such as /management/v1/orgs/me", quoteArg(p))
	}
	return p, nil
}

// apiRequest builds the request from -X, -d and PATH; the token is added
// when it is sent.
func (o *apiOptions) apiRequest(ctx context.Context, path string, stdin io.Reader) (*http.Request, error) {
	body, err := o.apiBody(ctx, stdin)
	if err != nil {
		return nil, err
	}
	method := strings.ToUpper(o.method)
	if method == "" {
		method = map[bool]string{false: http.MethodGet, true: http.MethodPost}[body != nil]
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, o.issuerBase()+path, r)
	if err != nil {
		return nil, usageErrorf("cannot make a request of -X %s, -issuer and PATH: %v", quoteArg(o.method), err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// apiBody returns -d's body: the value itself, a file's content (@FILE) or
// standard input (@-); nil without -d. A body over maxAPIBody is refused
// rather than sent cut short.
func (o *apiOptions) apiBody(ctx context.Context, stdin io.Reader) ([]byte, error) {
	name, isFile := strings.CutPrefix(o.data, "@")
	var data []byte
	var err error
	switch {
	case o.data == "":
		return nil, nil
	case !isFile:
		return []byte(o.data), nil
	case name == "-":
		if data, err = readContext(ctx, io.LimitReader(stdin, maxAPIBody+1)); err != nil {
			return nil, fmt.Errorf("reading the body from standard input: %w", err)
		}
	default:
		f, err := os.Open(name) // a named pipe, as -d @<(command) gives, is read too
		if err != nil {
			return nil, usageErrorf("-d: %v", err)
		}
		defer f.Close()
		if data, err = readContext(ctx, io.LimitReader(f, maxAPIBody+1)); err != nil {
			return nil, usageErrorf("-d: %v", err)
		}
	}
	if len(data) > maxAPIBody {
		return nil, usageErrorf("-d: the body is larger than %d MiB", maxAPIBody>>20)
	}
	return data, nil
}

// printAnswer prints a JSON answer indented, with the control characters
// in its strings escaped (\u001b): it decodes to the same values. Anything
// else is printed as it came, like curl does, so that an answer saved to a
// file or piped stays intact; on a terminal it is escaped (line feeds and
// tabs kept), as a server's text must not drive the terminal.
func printAnswer(w io.Writer, body []byte) error {
	var indented bytes.Buffer
	out := body
	switch {
	case json.Indent(&indented, bytes.TrimSpace(body), "", "  ") == nil:
		out = printableJSON(indented.Bytes())
	case isTerminal(w):
		out = []byte(printableText(string(body)))
	}
	if len(out) > 0 && !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out[:len(out):len(out)], '\n')
	}
	_, err := w.Write(out)
	return err
}

// apiError is an API answer with a status other than 2xx.
type apiError struct {
	status int
	hint   string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("the API answered HTTP %d %s", e.status, http.StatusText(e.status))
	if e.hint != "" {
		msg += ": " + e.hint
	}
	return msg
}

// apiStatus returns nil for 2xx, otherwise an *apiError saying what
// usually causes the answer, with exit code 5 for a server error, 4 for
// any other refusal.
func (o *apiOptions) apiStatus(status int, body []byte) error {
	switch {
	case status >= 200 && status < 300:
		return nil
	case status >= 500:
		return withCode(exitNetwork, &apiError{status: status, hint: o.apiHint(status, body, o.orgID)})
	}
	return withCode(exitRefused, &apiError{status: status, hint: o.apiHint(status, body, o.orgID)})
}
