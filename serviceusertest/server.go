// Package serviceusertest provides a fake ZITADEL instance for tests, in the
// spirit of net/http/httptest.
//
// The fake serves discovery, the JWT profile grant (RFC 7523 section 2.1) at
// the token endpoint and the userinfo endpoint. It also serves the other ways
// machines authenticate to ZITADEL: the client_credentials grant for users
// with a secret (NewServiceUserWithSecret), personal access tokens
// (NewPersonalAccessToken), token introspection authenticated by an API
// application's key (NewApplication), and a sliver of the Management API
// (ManagementURL). It checks assertions with the same rules, in the same
// order and with the same wording as the checker ZITADEL runs, so a client
// that passes here is accepted by a real server.
//
// For the resource-server side it answers introspection, userinfo and ID
// tokens with the claims ZITADEL sends: project roles granted with
// GrantRole, the user's organization with the resourceowner scope, JWT
// access tokens for users switched with SetJWTAccessTokens, and a key set of
// two signing keys at /oauth/v2/keys that RotateSigningKey rotates.
//
// Its answers are those measured on a real ZITADEL v4.13.1: status, error
// code and description, content type and headers. Like ZITADEL it serves one
// instance domain and answers 404 to requests for any other host; it mints
// RSA-2048 keys only, unless WithECKeys is given; and with
// SetProjectionDelay it shows ZITADEL's eventual consistency: credentials
// work only some time after they are made and keep working some time after
// they are deleted (and with SetUserProjectionLag a brand-new user is not
// found at first). Knobs on the Server shift its clock, slow it down, inject
// failures and count what it saw.
//
// With InProcess the server has no listener and answers through Client or
// Transport in-process, so that it works inside a testing/synctest bubble,
// on the bubble's fake clock (see ExampleInProcess).
//
// A typical test:
//
//	srv := serviceusertest.NewServer()
//	defer srv.Close()
//	user := srv.NewServiceUser()
//	// hand user.KeyFile and srv.Issuer() to the code under test
package serviceusertest

import (
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// DefaultTokenLifetime is the expires_in ZITADEL reports for a token with the
// default 12 hour lifetime (it truncates 12 h minus processing time).
const DefaultTokenLifetime = 43199 * time.Second

// Endpoint paths, as on current ZITADEL servers.
const (
	discoveryPath  = "/.well-known/openid-configuration"
	tokenPath      = "/oauth/v2/token"
	introspectPath = "/oauth/v2/introspect"
	revokePath     = "/oauth/v2/revoke"
	keysPath       = "/oauth/v2/keys"
	userinfoPath   = "/oidc/v1/userinfo"
	managementPath = "/management/v1"
)

// Server is a fake ZITADEL instance listening on a loopback address (or on
// the listener given WithListener), or, with InProcess, served without a
// listener. All its methods are safe for
// concurrent use.
type Server struct {
	srv       *httptest.Server // nil with InProcess
	listener  net.Listener     // WithListener; nil: a new loopback one
	handler   http.Handler     // what srv or the in-process transport serves
	inProcess bool             // InProcess
	done      chan struct{}    // closed by Close to release waiting handlers
	closeOnce sync.Once
	ecKeys    bool              // WithECKeys
	verifier  AssertionVerifier // WithAssertionVerifier; nil: the server's own checks

	mu     sync.Mutex
	nextID *big.Int
	users  map[string]*user        // by user ID
	keys   map[string]*publicKey   // by key ID
	tokens map[string]*issuedToken // by access token

	secrets map[string][]*clientSecret // by client ID (login name), oldest first
	appKeys map[string]*appKey         // by key ID
	apps    map[string][]string        // client IDs by project ID
	orgs    map[string]*organization   // by org ID

	signing signingKeys // see RotateSigningKey

	zitadelProject  string // the project ID of ZITADEL's own APIs
	defaultOrg      string
	domain          string // instance domain; "" is the listener's host
	projectionDelay time.Duration
	userLag         time.Duration // SetUserProjectionLag

	tokenLifetime time.Duration
	latency       time.Duration
	clockOffset   time.Duration
	legacyErrors  bool
	faults        []Fault

	tokenRequests int
	issuedTokens  int
	rejections    []error

	introspectionRequests int
	keySetRequests        int
	introspectionFaults   []Fault
}

// Option configures a Server made by NewServer.
type Option func(*Server)

// WithECKeys lets the server mint and store P-256 keys (KeyEC, or AddKey with
// an ECDSA key), as a generic OpenID provider that verifies ES256 does.
// ZITADEL itself makes and stores RSA keys only, so without this option such
// keys are refused with a panic.
func WithECKeys() Option {
	return func(s *Server) { s.ecKeys = true }
}

// NewServer starts a fake ZITADEL instance on 127.0.0.1 over plain HTTP
// (with WithListener, on the caller's listener; with InProcess, without a
// listener). The caller must call Close when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		done:          make(chan struct{}),
		nextID:        firstID(),
		users:         map[string]*user{},
		keys:          map[string]*publicKey{},
		tokens:        map[string]*issuedToken{},
		secrets:       map[string][]*clientSecret{},
		appKeys:       map[string]*appKey{},
		apps:          map[string][]string{},
		orgs:          map[string]*organization{},
		tokenLifetime: DefaultTokenLifetime,
	}
	for _, o := range opts {
		o(s)
	}
	s.zitadelProject = s.newID()
	s.signing = signingKeys{activeID: s.newID(), nextID: s.newID()}
	s.defaultOrg = s.NewOrganization("ZITADEL")
	s.handler = s.dated(s.checkInstance(s.routes()))
	s.listen()
	return s
}

// dated sets every answer's Date header from the server's clock (see
// SetClockOffset), as a real server's Date shows its own clock: clients
// measure clock drift from it.
func (s *Server) dated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", s.clock().UTC().Format(http.TimeFormat))
		next.ServeHTTP(w, r)
	})
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(discoveryPath, s.serveDiscovery)
	mux.HandleFunc(tokenPath, s.serveToken)
	mux.HandleFunc(userinfoPath, s.serveUserinfo)
	mux.HandleFunc(introspectPath, s.serveIntrospection)
	mux.HandleFunc(keysPath, s.serveKeys)
	mux.HandleFunc(managementPath+"/", s.serveManagement)
	return mux
}

// Close shuts the server down. Requests held by a Hang fault or by latency
// are released first (their connections are dropped without an answer), so
// Close never waits on them.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	if s.srv != nil {
		s.srv.Close()
	}
}

// Issuer returns the instance's issuer, "http://" and the instance domain
// (by default the listener's "127.0.0.1:PORT"), without a trailing slash.
// Assertions must name it exactly in "aud".
func (s *Server) Issuer() string { return "http://" + s.instanceHost() }

// TokenURL returns the token endpoint, Issuer()+"/oauth/v2/token".
func (s *Server) TokenURL() string { return s.Issuer() + tokenPath }

// UserinfoURL returns the userinfo endpoint, Issuer()+"/oidc/v1/userinfo".
func (s *Server) UserinfoURL() string { return s.Issuer() + userinfoPath }

// ManagementURL returns the base of the Management API's REST gateway,
// Issuer()+"/management/v1". Only GET /orgs/me is served.
func (s *Server) ManagementURL() string { return s.Issuer() + managementPath }

// Client returns an HTTP client configured for the server: with InProcess,
// one whose Transport is Transport().
func (s *Server) Client() *http.Client {
	if s.srv == nil {
		return &http.Client{Transport: s.Transport()}
	}
	return s.srv.Client()
}

// Transport returns the RoundTripper of Client, to wrap in a test's own
// RoundTripper. With InProcess it serves requests in-process.
func (s *Server) Transport() http.RoundTripper {
	if s.srv == nil {
		return inProcessTransport{s}
	}
	return s.srv.Client().Transport
}

// SetTokenLifetime sets the lifetime of tokens issued from now on and the
// expires_in reported for them, in whole seconds (default 43199 s). Zero
// omits expires_in from the response, as some servers do; such tokens stay
// valid for DefaultTokenLifetime. A negative value is reported as is, to see
// how clients cope with a broken server.
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenLifetime = d
}

// SetLatency delays the answer to each token request by d. The wait ends
// early when the client gives up or the server is closed.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetClockOffset shifts the server's clock by d relative to its clock source,
// to simulate clock drift between client and server.
func (s *Server) SetClockOffset(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clockOffset = d
}

// clock returns the server's current time: the clock (a synctest bubble's
// fake one, for an in-process server in a bubble) plus the offset.
func (s *Server) clock() time.Time {
	s.mu.Lock()
	offset := s.clockOffset
	s.mu.Unlock()
	return time.Now().Add(offset)
}

// SetLegacyErrors selects how rejected assertions are answered. Off (the
// default) answers like current ZITADEL: 500 with
// {"error":"server_error","error_description":"Errors.Internal"}. On answers
// like older servers: 400 invalid_grant with the checker's wording.
func (s *Server) SetLegacyErrors(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.legacyErrors = on
}

// TokenRequests reports how many requests reached the token endpoint,
// whatever their outcome, injected faults included.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenRequests
}

// IssuedTokens reports how many token requests succeeded.
func (s *Server) IssuedTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issuedTokens
}

// Rejections returns, in order, why each rejected token request was rejected.
// Assertion failures match the Err* variables of this package with
// errors.Is. Requests answered by an injected Fault are not rejections.
func (s *Server) Rejections() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.rejections...)
}

func (s *Server) reject(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejections = append(s.rejections, err)
}
