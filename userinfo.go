package serviceuser

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-serviceuser/serviceuser/internal/answer"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
)

// Userinfo is the answer of ZITADEL's userinfo endpoint.
type Userinfo struct {
	Subject           string `json:"sub"`
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	Email             string `json:"email"`
	// Claims holds every claim of the answer, including those above.
	Claims map[string]any `json:"-"`
}

// FetchUserinfo calls the userinfo endpoint (Endpoints.UserinfoURL, on
// current servers {issuer}/oidc/v1/userinfo) with client, which must send a
// token (see Config.Client). It is the quickest check that a token works.
func FetchUserinfo(ctx context.Context, client *http.Client, userinfoURL string) (*Userinfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, userinfoURL, nil)
	if err != nil {
		return nil, fmt.Errorf("serviceuser: userinfo: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	sent := time.Now().Round(0)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("serviceuser: userinfo: %w", err)
	}
	body, err := httpcall.ReadBody(resp)
	if err != nil {
		return nil, fmt.Errorf("serviceuser: userinfo: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		a := answer.Answer{Endpoint: EndpointUserinfo, Resp: resp, Body: body, Secrets: []string{sentCredential(resp.Request)}, Sent: sent}
		return nil, tokenError(a.Parse())
	}
	var info Userinfo
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("serviceuser: userinfo: answer is not a JSON object")
	}
	if err := json.Unmarshal(body, &info.Claims); err != nil {
		return nil, fmt.Errorf("serviceuser: userinfo: answer is not a JSON object")
	}
	return &info, nil
}

// sentCredential returns the credential of the request's Authorization
// header (the token after "Bearer "), or "".
func sentCredential(req *http.Request) string {
	if req == nil {
		return ""
	}
	_, credential, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	return strings.TrimSpace(credential)
}
