package conformance

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/go-serviceuser/serviceuser"
)

// Endpoint paths, as on current ZITADEL servers.
const (
	discoveryPath = oidc.DiscoveryEndpoint
	tokenPath     = "/oauth/v2/token"
	userinfoPath  = "/oidc/v1/userinfo"
	keysPath      = "/oauth/v2/keys"
)

// The settings ZITADEL gives the assertion checker:
// op.NewJWTProfileVerifier(storage, issuer, time.Hour, time.Second).
const (
	zitadelMaxAgeIAT = time.Hour
	zitadelLeeway    = time.Second
)

// TokenLifetime is the expires_in ZITADEL reports for a token with its
// default 12 hour lifetime.
const TokenLifetime = 43199 * time.Second

// scopeMissing is ZITADEL's description for a token request without scope.
const scopeMissing = "The scope of your request is missing. Please ensure some scopes are requested. " +
	"If you have any questions, you may contact the administrator of the application."

// ErrKeyNotFound is returned by the key storage when no key with the
// assertion's kid belongs to its iss. It appears wrapped in
// oidc.ErrSignatureInvalid.
var ErrKeyNotFound = errors.New("key not found")

// keyStore holds service users' public keys by (key ID, user ID), as ZITADEL
// looks them up. It implements op.JWTProfileKeyStorage.
type keyStore struct {
	mu   sync.RWMutex
	keys map[keyRef]crypto.PublicKey
}

type keyRef struct{ keyID, userID string }

var (
	_ op.JWTProfileKeyStorage = (*keyStore)(nil)
	_ op.JWTProfileKeyStorage = (*Referee)(nil)
)

func newKeyStore() *keyStore { return &keyStore{keys: map[keyRef]crypto.PublicKey{}} }

func (s *keyStore) register(userID, keyID string, pub crypto.PublicKey) {
	if userID == "" || keyID == "" || pub == nil {
		panic("conformance: RegisterKey needs a user ID, a key ID and a public key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[keyRef{keyID, userID}] = pub
}

// GetKeyByIDAndClientID returns the key with ID keyID of user clientID.
func (s *keyStore) GetKeyByIDAndClientID(_ context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	pub, ok := s.keys[keyRef{keyID, clientID}]
	if !ok {
		return nil, fmt.Errorf("%w: kid %q for iss %q", ErrKeyNotFound, keyID, clientID)
	}
	return &jose.JSONWebKey{KeyID: keyID, Use: oidc.KeyUseSignature, Key: pub}, nil
}

// ErrUserNotFound is the subject check's error under WithZitadelSubjectCheck.
var ErrUserNotFound = errors.New("user not found")

// checkUserExists is ZITADEL's subject check: the subject is a known user.
func (s *keyStore) checkUserExists(req *oidc.JWTTokenRequest) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for ref := range s.keys {
		if ref.userID == req.Subject {
			return nil
		}
	}
	return fmt.Errorf("%w: %q", ErrUserNotFound, req.Subject)
}

// RefereeOption changes a Referee.
type RefereeOption func(*Referee)

// WithLeeway replaces the assertion checker's clock tolerance, which is one
// second on ZITADEL. It exists to show that comparisons against the referee
// notice a checker with a different tolerance.
func WithLeeway(d time.Duration) RefereeOption {
	return func(r *Referee) { r.leeway = d }
}

// WithZitadelSubjectCheck replaces the checker's iss == sub rule by the
// subject check ZITADEL's server configures (op.SubjectCheck with a user
// lookup): "sub" must name a known user, one with a registered key; the key
// is still looked up by (kid, iss), and the token is issued for "sub". The
// default is zitadel/oidc's own rule, which ZITADEL's documentation states:
// iss must equal sub.
func WithZitadelSubjectCheck() RefereeOption {
	return func(r *Referee) { r.subjectLookup = true }
}

// Referee is a minimal ZITADEL token endpoint on httptest whose assertion
// checks are those of ZITADEL itself: every assertion goes through
// zitadel/oidc's op.VerifyJWTAssertion with ZITADEL's settings (iat at most
// one hour old, one second of tolerance) and a key lookup by (kid, iss).
// The subject rule is zitadel/oidc's iss == sub unless WithZitadelSubjectCheck
// is given. Refused assertions are answered like current ZITADEL: 500
// server_error "Errors.Internal". It serves discovery, the JWT profile grant,
// userinfo and the key set of its id_tokens. All its methods are safe for
// concurrent use.
//
// The checker reads time.Now directly, so the referee has no clock of its own:
// to test a client clock that is off, shift the times in the assertion, or run
// the referee inside a testing/synctest bubble, whose fake clock the checker
// then reads.
type Referee struct {
	srv    *httptest.Server
	keys   *keyStore
	leeway time.Duration
	// subjectLookup selects ZITADEL's subject check over iss == sub.
	subjectLookup bool
	signer        jose.Signer
	idKey         jose.JSONWebKey // public half of the id_token signing key

	mu            sync.Mutex
	tokens        map[string]string // access token -> user ID
	tokenRequests int
	rejections    []error
}

// NewReferee starts a Referee; it is closed when t's test ends.
func NewReferee(t testing.TB, opts ...RefereeOption) *Referee {
	t.Helper()
	r := &Referee{keys: newKeyStore(), leeway: zitadelLeeway, tokens: map[string]string{}}
	for _, o := range opts {
		o(r)
	}
	r.signer, r.idKey = idTokenSigner()
	mux := http.NewServeMux()
	mux.HandleFunc(discoveryPath, r.serveDiscovery)
	mux.HandleFunc(tokenPath, r.serveToken)
	mux.HandleFunc(userinfoPath, r.serveUserinfo)
	mux.HandleFunc(keysPath, r.serveKeys)
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

// Issuer returns the referee's issuer, "http://127.0.0.1:PORT".
func (r *Referee) Issuer() string { return r.srv.URL }

// TokenURL returns the token endpoint.
func (r *Referee) TokenURL() string { return r.srv.URL + tokenPath }

// UserinfoURL returns the userinfo endpoint.
func (r *Referee) UserinfoURL() string { return r.srv.URL + userinfoPath }

// Client returns an HTTP client for the referee.
func (r *Referee) Client() *http.Client { return r.srv.Client() }

// RegisterKey registers pub as the key keyID of service user userID.
func (r *Referee) RegisterKey(userID, keyID string, pub crypto.PublicKey) {
	r.keys.register(userID, keyID, pub)
}

// RegisterKeyFile registers the public key of a service user key file.
func (r *Referee) RegisterKeyFile(kf *serviceuser.KeyFile) {
	r.keys.register(kf.UserID, kf.KeyID, kf.PublicKey())
}

// GetKeyByIDAndClientID implements op.JWTProfileKeyStorage.
func (r *Referee) GetKeyByIDAndClientID(ctx context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	return r.keys.GetKeyByIDAndClientID(ctx, keyID, clientID)
}

// TokenRequests reports how many requests reached the token endpoint.
func (r *Referee) TokenRequests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tokenRequests
}

// IssuedTokens reports how many tokens the referee issued.
func (r *Referee) IssuedTokens() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tokens)
}

// Rejections returns, in order, why each refused token request was refused.
// Assertion failures are the checker's own errors (oidc.ErrExpired, ...);
// request errors are *oidc.Error values.
func (r *Referee) Rejections() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.rejections)
}

// discoveryDocument is the part of ZITADEL's discovery document that clients
// of service users read.
type discoveryDocument struct {
	Issuer              string   `json:"issuer"`
	TokenEndpoint       string   `json:"token_endpoint"`
	UserinfoEndpoint    string   `json:"userinfo_endpoint"`
	JwksURI             string   `json:"jwks_uri"`
	GrantTypesSupported []string `json:"grant_types_supported"`
	ScopesSupported     []string `json:"scopes_supported"`
	IDTokenAlgs         []string `json:"id_token_signing_alg_values_supported"`
}

func (r *Referee) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	iss := r.Issuer()
	writeRefereeJSON(w, http.StatusOK, discoveryDocument{
		Issuer:           iss,
		TokenEndpoint:    iss + tokenPath,
		UserinfoEndpoint: iss + userinfoPath,
		JwksURI:          iss + keysPath,
		GrantTypesSupported: []string{
			string(oidc.GrantTypeCode), string(oidc.GrantTypeRefreshToken),
			string(oidc.GrantTypeClientCredentials), string(oidc.GrantTypeBearer),
		},
		ScopesSupported: []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, serviceuser.ScopeZitadelAPI},
		IDTokenAlgs:     []string{string(jose.RS256)},
	})
}

// oauthErrorBody is an OAuth 2.0 error body.
type oauthErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// internalError is what current ZITADEL answers for a refused assertion.
var internalError = oauthErrorBody{"server_error", "Errors.Internal"}

// requestError is a malformed token request, answered with 400.
type requestError struct{ oauthErrorBody }

func (e *requestError) Error() string { return e.oauthErrorBody.Error + ": " + e.Description }

func invalidRequest(description string) error {
	return &requestError{oauthErrorBody{string(oidc.InvalidRequest), description}}
}

func (r *Referee) serveToken(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.mu.Lock()
	r.tokenRequests++
	r.mu.Unlock()

	userID, scopes, err := r.checkTokenRequest(req)
	if err != nil {
		r.mu.Lock()
		r.rejections = append(r.rejections, err)
		r.mu.Unlock()
		if re, ok := err.(*requestError); ok {
			writeRefereeJSON(w, http.StatusBadRequest, re.oauthErrorBody)
			return
		}
		writeRefereeJSON(w, http.StatusInternalServerError, internalError)
		return
	}
	resp, err := r.issue(userID, scopes)
	if err != nil {
		writeRefereeJSON(w, http.StatusInternalServerError, internalError)
		return
	}
	writeRefereeJSON(w, http.StatusOK, resp)
}

// checkTokenRequest checks the form like zitadel/oidc's token handler, the
// scope like ZITADEL, then the assertion with ZITADEL's checker.
func (r *Referee) checkTokenRequest(req *http.Request) (string, []string, error) {
	if req.Method != http.MethodPost {
		return "", nil, invalidRequest("method " + req.Method + " not allowed, use POST")
	}
	if err := req.ParseForm(); err != nil {
		return "", nil, invalidRequest("error parsing form")
	}
	switch gt := req.PostForm.Get("grant_type"); gt {
	case string(oidc.GrantTypeBearer):
	case "":
		return "", nil, invalidRequest("grant_type missing")
	default:
		return "", nil, &requestError{oauthErrorBody{string(oidc.UnsupportedGrantType), gt + " not supported"}}
	}
	assertion := req.PostForm.Get("assertion")
	if assertion == "" {
		return "", nil, invalidRequest("assertion missing")
	}
	scopes := strings.Fields(req.PostForm.Get("scope"))
	if len(scopes) == 0 {
		return "", nil, invalidRequest(scopeMissing)
	}
	var opts []op.JWTProfileVerifierOption
	if r.subjectLookup {
		opts = append(opts, op.SubjectCheck(r.keys.checkUserExists))
	}
	verifier := op.NewJWTProfileVerifier(r.keys, r.Issuer(), zitadelMaxAgeIAT, r.leeway, opts...)
	claims, err := op.VerifyJWTAssertion(req.Context(), assertion, verifier)
	if err != nil {
		return "", nil, err
	}
	return claims.Subject, scopes, nil
}

// refereeTokenResponse is a successful token endpoint answer.
type refereeTokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	IDToken     string `json:"id_token,omitempty"`
	Scope       string `json:"scope,omitempty"`
}

// issue mints an opaque access token, and an id_token when openid was asked.
func (r *Referee) issue(userID string, scopes []string) (*refereeTokenResponse, error) {
	resp := &refereeTokenResponse{
		AccessToken: randomToken(),
		TokenType:   oidc.BearerToken,
		ExpiresIn:   int64(TokenLifetime / time.Second),
		Scope:       strings.Join(scopes, " "),
	}
	if slices.Contains(scopes, oidc.ScopeOpenID) {
		idToken, err := r.idToken(userID)
		if err != nil {
			return nil, err
		}
		resp.IDToken = idToken
	}
	r.mu.Lock()
	r.tokens[resp.AccessToken] = userID
	r.mu.Unlock()
	return resp, nil
}

// idToken signs an id_token for userID as ZITADEL does for a JWT profile
// grant: the user is both the subject and the audience.
func (r *Referee) idToken(userID string) (string, error) {
	now := time.Now()
	claims := &oidc.IDTokenClaims{TokenClaims: oidc.TokenClaims{
		Issuer:     r.Issuer(),
		Subject:    userID,
		Audience:   oidc.Audience{userID},
		Expiration: oidc.FromTime(now.Add(TokenLifetime)),
		IssuedAt:   oidc.FromTime(now),
		AuthTime:   oidc.FromTime(now),
	}}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := r.signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func (r *Referee) serveUserinfo(w http.ResponseWriter, req *http.Request) {
	scheme, token, ok := strings.Cut(req.Header.Get("Authorization"), " ")
	ok = ok && strings.EqualFold(scheme, oidc.BearerToken)
	r.mu.Lock()
	userID, known := r.tokens[token]
	r.mu.Unlock()
	if !ok || !known {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeRefereeJSON(w, http.StatusUnauthorized, oauthErrorBody{"invalid_token", "access token invalid"})
		return
	}
	writeRefereeJSON(w, http.StatusOK, map[string]string{"sub": userID})
}

func (r *Referee) serveKeys(w http.ResponseWriter, _ *http.Request) {
	writeRefereeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{r.idKey}})
}

// idTokenSigningKey is the RSA key referees sign id_tokens with; one for the
// whole process keeps starting a referee cheap.
var idTokenSigningKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

const idTokenKeyID = "referee-id-token-key"

func idTokenSigner() (jose.Signer, jose.JSONWebKey) {
	k := idTokenSigningKey()
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.RS256,
		Key:       jose.JSONWebKey{Key: k, KeyID: idTokenKeyID},
	}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic(err)
	}
	return signer, jose.JSONWebKey{Key: &k.PublicKey, KeyID: idTokenKeyID, Algorithm: string(jose.RS256), Use: oidc.KeyUseSignature}
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func writeRefereeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("conformance: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
