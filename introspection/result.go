package introspection

import (
	"context"
	"encoding/json"
	"slices"
)

// Result is the answer of the introspection endpoint (RFC 7662). When Active
// is false every other field is empty, whatever the server said.
type Result struct {
	Active    bool     `json:"active"`
	Subject   string   `json:"sub"`
	ClientID  string   `json:"client_id"`
	Username  string   `json:"username"`
	Scope     string   `json:"scope"`
	TokenType string   `json:"token_type"`
	Issuer    string   `json:"iss"`
	Audience  []string `json:"aud"`
	ExpiresAt int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
}

// UnmarshalJSON accepts "aud" as a string or an array of strings.
func (r *Result) UnmarshalJSON(data []byte) error {
	type plain Result
	var v struct {
		*plain
		Audience json.RawMessage `json:"aud"`
	}
	v.plain = (*plain)(r)
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	var one string
	if json.Unmarshal(v.Audience, &one) == nil {
		r.Audience = []string{one}
		return nil
	}
	r.Audience = nil
	_ = json.Unmarshal(v.Audience, &r.Audience) // absent or malformed: no audience
	return nil
}

// clone is a copy of r for one caller: the cache and a shared request hold
// the original, which a caller's changes must not reach.
func (r *Result) clone() *Result {
	if r == nil {
		return nil
	}
	c := *r
	c.Audience = slices.Clone(r.Audience)
	return &c
}

// resultKey is the context key of the Result of a request's token.
type resultKey struct{}

// NewContext returns a copy of ctx holding r, as Middleware and the server
// interceptors of package grpcauth hand it to handlers; tests of handlers
// can use it too.
func NewContext(ctx context.Context, r *Result) context.Context {
	return context.WithValue(ctx, resultKey{}, r)
}

// FromContext returns what Middleware, or a server interceptor of package
// grpcauth, learnt of the request's token; ok is false when ctx holds no
// Result.
func FromContext(ctx context.Context) (*Result, bool) {
	r, ok := ctx.Value(resultKey{}).(*Result)
	return r, ok && r != nil
}
