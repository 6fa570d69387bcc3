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

	"golang.org/x/oauth2"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/internal/printable"
)

// maxAPIAnswer bounds the answer api reads and prints.
const maxAPIAnswer = 64 << 20

// maxAPIBody bounds the request body api sends (-d); ZITADEL's gRPC
// services take messages of 4 MiB by default.
const maxAPIBody = 16 << 20

// runAPI sends one authenticated request to the instance and prints the
// answer, JSON pretty-printed. A status other than 2xx is an *apiError
// after the answer is printed, so that a script sees both.
func runAPI(ctx context.Context, o *options, stdout io.Writer) error {
	path, err := apiPath(o.operands)
	if err != nil {
		return err
	}
	req, err := o.apiRequest(ctx, path)
	if err != nil {
		return err
	}
	cred, err := loadCredential(o, true)
	if err != nil {
		return err
	}
	tok, err := obtainToken(ctx, o, cred, o.scopeValues())
	if err != nil {
		return err
	}
	status, body, err := o.send(req, tok)
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
func (o *options) apiRequest(ctx context.Context, path string) (*http.Request, error) {
	body, err := o.apiBody(ctx)
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
func (o *options) apiBody(ctx context.Context) ([]byte, error) {
	name, isFile := strings.CutPrefix(o.data, "@")
	var data []byte
	var err error
	switch {
	case o.data == "":
		return nil, nil
	case !isFile:
		return []byte(o.data), nil
	case name == "-":
		if data, err = readContext(ctx, io.LimitReader(o.stdin, maxAPIBody+1)); err != nil {
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

// authClient sends requests with the source's tokens over the tool's
// transport, by the route of -address and -H, acting on -org when given;
// the plain http opt-in covers a -userinfo-url or an issuer on plain http.
func (o *options) authClient(ts oauth2.TokenSource) *http.Client {
	return &http.Client{Timeout: o.timeout, Transport: &serviceuser.Transport{
		Source: ts, Base: o.route(), OrgID: o.orgID, InsecureAllowPlainHTTPAnyHost: o.allowPlainHTTP}}
}

// send sends req with tok over the tool's transport and reads the answer,
// which must not be larger than maxAPIAnswer: an answer cut short is never
// taken for the whole.
func (o *options) send(req *http.Request, tok *oauth2.Token) (int, []byte, error) {
	resp, err := o.authClient(oauth2.StaticTokenSource(tok)).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIAnswer+1))
	if err == nil && len(body) > maxAPIAnswer {
		err = fmt.Errorf("the answer (HTTP %d) is larger than %d MiB, more than the tool reads: not printed",
			resp.StatusCode, maxAPIAnswer>>20)
	}
	return resp.StatusCode, body, err
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
		out = printable.JSON(indented.Bytes())
	case isTerminal(w):
		out = []byte(printable.Text(string(body)))
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

// exitCode is 5 for a server error, 4 for any other refusal.
func (e *apiError) exitCode() int {
	if e.status >= 500 {
		return exitNetwork
	}
	return exitRefused
}

// apiStatus returns nil for 2xx, otherwise an *apiError saying what
// usually causes the answer.
func (o *options) apiStatus(status int, body []byte) error {
	if status >= 200 && status < 300 {
		return nil
	}
	return &apiError{status: status, hint: o.apiHint(status, body)}
}
