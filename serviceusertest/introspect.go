package serviceusertest

import (
	"crypto"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// ClientAssertionType is the client_assertion_type of RFC 7523 section 2.2,
// with which an application authenticates at the introspection endpoint.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Application is an API application registered on the Server, in a project
// of its own, with one key. Its key authenticates it at the introspection
// endpoint; it cannot be used for the JWT profile grant, as on ZITADEL.
type Application struct {
	// AppID is the application's ID.
	AppID string
	// ProjectID is the ID of the application's project. Introspection
	// reports a token active only if it was requested with the scope
	// "urn:zitadel:iam:org:project:id:{ProjectID}:aud" (see AudienceScope).
	ProjectID string
	// ClientID is the application's client ID: "iss" and "sub" of its
	// client assertions.
	ClientID string
	// KeyID is the key's ID: "kid" of its client assertions.
	KeyID string
	// KeyFile is the JSON application key file as ZITADEL writes it.
	KeyFile []byte
	// PrivateKey is the key, for tests that sign their own assertions.
	PrivateKey crypto.Signer
}

// appKeyFile is the layout of an application key file, fields in ZITADEL's
// order.
type appKeyFile struct {
	Type     string `json:"type"`
	KeyID    string `json:"keyId"`
	Key      string `json:"key"`
	AppID    string `json:"appId"`
	ClientID string `json:"clientId"`
}

// AudienceScope returns the scope that puts the application's project into
// a token's audience: "urn:zitadel:iam:org:project:id:{ProjectID}:aud".
func (a *Application) AudienceScope() string {
	return "urn:zitadel:iam:org:project:id:" + a.ProjectID + ":aud"
}

// appKey is a registered application key as the server sees it.
type appKey struct {
	clientID  string
	projectID string
	key       crypto.PublicKey
	life      lifespan
}

// claims is a JSON object of claims: an introspection answer, userinfo or a
// JWT's payload.
type claims map[string]any

// inactive is the introspection answer for a token that is not active, or
// for a client whose assertion failed: "active" only.
func inactive() claims { return claims{"active": false} }

// NewApplication registers an API application, in a new project, with a
// fresh RSA-2048 key in PKCS#1 PEM, the kind ZITADEL generates.
func (s *Server) NewApplication() *Application {
	signer, pemBytes := generateKey(KeyRSA)
	app := &Application{AppID: s.newID(), ProjectID: s.newID(), KeyID: s.newID(), PrivateKey: signer}
	app.ClientID = s.newID() + "@serviceusertest"
	app.KeyFile = marshalAppKeyFile(app, pemBytes)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appKeys[app.KeyID] = &appKey{clientID: app.ClientID, projectID: app.ProjectID, key: signer.Public(), life: lifespan{created: time.Now()}}
	s.apps[app.ProjectID] = append(s.apps[app.ProjectID], app.ClientID)
	return app
}

func marshalAppKeyFile(app *Application, pemBytes []byte) []byte {
	b, err := json.Marshal(appKeyFile{
		Type:     "application",
		KeyID:    app.KeyID,
		Key:      string(pemBytes),
		AppID:    app.AppID,
		ClientID: app.ClientID,
	})
	if err != nil {
		panic(err)
	}
	return b
}

// lookupAppKey finds the application key with ID keyID belonging to
// clientID, like ZITADEL's lookup of client assertion keys by (kid, iss).
// Service user keys are never found here.
func (s *Server) lookupAppKey(keyID, clientID string, now time.Time) (crypto.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.appKeys[keyID]
	if !ok || k.clientID != clientID {
		return nil, fmt.Errorf("%w: application kid %q for iss %q", ErrKeyNotFound, keyID, clientID)
	}
	switch k.life.seen(time.Now(), s.delay()) {
	case notYet:
		return nil, fmt.Errorf("%w: application kid %q: %w", ErrKeyNotFound, keyID, ErrNotProjected)
	case gone:
		return nil, fmt.Errorf("%w: application kid %q", ErrKeyRevoked, keyID)
	}
	return k.key, nil
}

// IntrospectionURL returns the introspection endpoint,
// Issuer()+"/oauth/v2/introspect".
func (s *Server) IntrospectionURL() string { return s.Issuer() + introspectPath }

// IntrospectionRequests reports how many requests reached the introspection
// endpoint, whatever their outcome, injected faults included.
func (s *Server) IntrospectionRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.introspectionRequests
}

// FailNextIntrospection makes the next n introspection requests get f
// instead of normal processing, as FailNext does for token requests; they
// still count in IntrospectionRequests. n <= 0 drops all pending faults.
func (s *Server) FailNextIntrospection(n int, f Fault) {
	s.queueFaults(&s.introspectionFaults, n, f)
}

// serveIntrospection answers RFC 7662 introspection requests from
// applications authenticated by an RFC 7523 section 2.2 client assertion. As
// on ZITADEL, a client assertion that fails its checks (a wrong, unknown or
// deleted key, a wrong audience, an expired assertion) gets the answer for an
// inactive token, and the same assertion may be used again and again.
func (s *Server) serveIntrospection(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if f, ok := s.countIntrospection(); ok {
		s.serveFault(w, r, f)
		return
	}
	app, err := s.checkIntrospection(r)
	switch e := err.(type) {
	case nil:
		writeJSON(w, http.StatusOK, s.introspect(r.PostForm.Get("token"), app))
	case *clientError:
		writeClientError(w, e)
	case *requestError:
		writeJSON(w, http.StatusBadRequest, oauthError{e.code, e.description})
	case assertionRefused:
		writeJSON(w, http.StatusOK, inactive())
	}
}

// assertionRefused is a client assertion that failed the checker's checks.
type assertionRefused struct{ error }

// countIntrospection counts the request and takes the pending fault, if any.
func (s *Server) countIntrospection() (Fault, bool) {
	return s.count(&s.introspectionRequests, &s.introspectionFaults)
}

// checkIntrospection validates the form and the client assertion and returns
// the authenticated application's key.
func (s *Server) checkIntrospection(r *http.Request) (*appKey, error) {
	if err := parsePostForm(r); err != nil {
		return nil, err
	}
	app, err := s.authenticateApplication(r)
	if err != nil {
		return nil, err
	}
	if r.PostForm.Get("token") == "" {
		return nil, badRequest("invalid_request", "token missing")
	}
	return app, nil
}

// authenticateApplication checks the client assertion with the JWT profile
// checker, against application keys only.
func (s *Server) authenticateApplication(r *http.Request) (*appKey, error) {
	_, _, basic := r.BasicAuth()
	if at := r.PostForm.Get("client_assertion_type"); at != ClientAssertionType {
		return nil, invalidClient(basic, "client_assertion_type must be %q, got %q", ClientAssertionType, at)
	}
	var key *appKey
	lookup := func(keyID, clientID string, now time.Time) (crypto.PublicKey, error) {
		pub, err := s.lookupAppKey(keyID, clientID, now)
		if err == nil {
			s.mu.Lock()
			key = s.appKeys[keyID]
			s.mu.Unlock()
		}
		return pub, err
	}
	if _, err := s.verifyAssertionWith(r.PostForm.Get("client_assertion"), s.clock(), lookup); err != nil {
		return nil, assertionRefused{err}
	}
	return key, nil
}

// introspect describes token as seen by the application app: active only if
// the token's audience holds the application's project or client ID. The
// fields are those ZITADEL v4.13.1 sends, "username" only with "profile".
func (s *Server) introspect(token string, app *appKey) claims {
	t, ok := s.validToken(token)
	if !ok {
		return inactive()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	aud := s.expandAudience(t.audience)
	if !slices.Contains(aud, app.projectID) && !slices.Contains(aud, app.clientID) {
		return inactive()
	}
	c := claims{
		"active":     true,
		"scope":      strings.Join(t.scopes, " "),
		"client_id":  t.clientID,
		"token_type": "Bearer",
		"exp":        t.expiry.Unix(),
		"iat":        t.issuedAt.Unix(),
		"nbf":        t.issuedAt.Unix(),
		"auth_time":  t.issuedAt.Unix(),
		"jti":        t.id,
		"sub":        t.userID,
		"aud":        aud,
		"iss":        "http://" + s.instanceHostLocked(),
	}
	if slices.Contains(t.scopes, "profile") {
		c["username"] = s.users[t.userID].username
	}
	s.addResourceOwner(c, t)
	s.addIntrospectedRoles(c, t, app.projectID)
	return c
}

// expandAudience lists each project with the client IDs of its applications,
// as ZITADEL's audience does; s.mu must be held.
func (s *Server) expandAudience(projects []string) []string {
	var aud []string
	for _, p := range projects {
		aud = append(aud, p)
		aud = append(aud, s.apps[p]...)
	}
	return aud
}
