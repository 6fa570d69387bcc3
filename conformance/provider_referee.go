package conformance

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// Endpoint paths of the provider, as on current ZITADEL servers.
const (
	tokenPath    = "/oauth/v2/token"
	userinfoPath = "/oidc/v1/userinfo"
)

// ProviderReferee is zitadel/oidc's own OpenID Provider (op.NewProvider) on
// httptest, with a storage that serves the JWT profile grant and nothing
// else. Unlike the referee (NewReferee), every step of a token request, from
// form parsing to the response, is zitadel/oidc's code. It answers refused
// assertions like that library's router (400 invalid_grant or
// invalid_request, 500 for undecodable claims), not like ZITADEL (500
// Errors.Internal): compare decisions with it, not error codes.
type ProviderReferee struct {
	srv     *httptest.Server
	storage *providerStorage
}

// NewProviderReferee starts a ProviderReferee that finds the assertions'
// keys with keys, for instance a serviceusertest.Server's LookupKey. The
// caller must call Close.
func NewProviderReferee(keys serviceusertest.KeyLookup) (*ProviderReferee, error) {
	if keys == nil {
		return nil, errors.New("conformance: NewProviderReferee needs a KeyLookup")
	}
	srv := httptest.NewUnstartedServer(nil)
	storage := &providerStorage{keys: keyStorage(keys), tokens: map[string]string{}}
	var cryptoKey [32]byte
	_, _ = rand.Read(cryptoKey[:]) // never fails
	provider, err := op.NewProvider(&op.Config{CryptoKey: cryptoKey}, storage,
		op.StaticIssuer("http://"+srv.Listener.Addr().String()),
		op.WithAllowInsecure(),
		op.WithCustomTokenEndpoint(op.NewEndpoint(tokenPath)),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint(userinfoPath)),
	)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("op.NewProvider: %w", err)
	}
	srv.Config.Handler = provider
	srv.Start()
	return &ProviderReferee{srv: srv, storage: storage}, nil
}

// Close shuts the provider down.
func (p *ProviderReferee) Close() { p.srv.Close() }

// Issuer returns the provider's issuer, "http://127.0.0.1:PORT".
func (p *ProviderReferee) Issuer() string { return p.srv.URL }

// TokenURL returns the token endpoint.
func (p *ProviderReferee) TokenURL() string { return p.srv.URL + tokenPath }

// UserinfoURL returns the userinfo endpoint.
func (p *ProviderReferee) UserinfoURL() string { return p.srv.URL + userinfoPath }

// IssuedTokens reports how many access tokens the provider issued.
func (p *ProviderReferee) IssuedTokens() int {
	p.storage.mu.Lock()
	defer p.storage.mu.Unlock()
	return len(p.storage.tokens)
}

// providerStorage implements what the provider calls for discovery, the JWT
// profile grant and userinfo. The embedded op.Storage is nil: any other
// method panics, which the HTTP server turns into a dropped connection.
type providerStorage struct {
	op.Storage
	keys keyStorage

	mu     sync.Mutex
	tokens map[string]string // token ID -> user ID
}

var errUnknownToken = errors.New("unknown token")

// GetKeyByIDAndClientID is the key lookup of the assertion checker.
func (s *providerStorage) GetKeyByIDAndClientID(ctx context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	return s.keys.GetKeyByIDAndClientID(ctx, keyID, clientID)
}

// ValidateJWTProfileScopes checks the scopes with the call ZITADEL makes
// after the assertion was accepted.
func (s *providerStorage) ValidateJWTProfileScopes(_ context.Context, _ string, scopes []string) ([]string, error) {
	return op.ValidateAuthReqScopes(scopeClient{}, scopes)
}

// scopeClient is the client op.ValidateAuthReqScopes consults: it allows
// every scope. Its embedded op.Client is nil; no other method is called.
type scopeClient struct{ op.Client }

func (scopeClient) IsScopeAllowed(string) bool { return true }

// CreateAccessToken records a token for the assertion's subject, valid for
// ZITADEL's default 12 hours (reported as 43199 s once a moment has passed).
func (s *providerStorage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	id := rand.Text()
	s.mu.Lock()
	s.tokens[id] = req.GetSubject()
	s.mu.Unlock()
	return id, time.Now().Add(12 * time.Hour), nil
}

// SignatureAlgorithms is listed in the discovery document.
func (s *providerStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// SetUserinfoFromToken answers userinfo for a token this provider issued.
func (s *providerStorage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	userID, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || userID != subject {
		return errUnknownToken
	}
	info.Subject = subject
	return nil
}

// Health answers the provider's readiness probe.
func (s *providerStorage) Health(context.Context) error { return nil }
