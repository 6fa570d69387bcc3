package serviceusertest

import (
	"crypto"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ClientAssertionType is the client_assertion_type of RFC 7523 section 2.2,
// with which an application authenticates at the introspection endpoint.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Application is an API application registered on the Server, with one key.
// Its key authenticates it at the introspection endpoint; it cannot be used
// for the JWT profile grant, as on ZITADEL.
type Application struct {
	// AppID is the application's ID.
	AppID string
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

// appKey is a registered application key as the server sees it.
type appKey struct {
	clientID string
	key      crypto.PublicKey
}

// introspection is an RFC 7662 answer; an inactive token gets only "active".
type introspection struct {
	Active    bool     `json:"active"`
	Subject   string   `json:"sub,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Username  string   `json:"username,omitempty"`
	Scope     string   `json:"scope,omitempty"`
	ExpiresAt int64    `json:"exp,omitempty"`
	IssuedAt  int64    `json:"iat,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Audience  []string `json:"aud,omitempty"`
	Issuer    string   `json:"iss,omitempty"`
}

// NewApplication registers an API application with a fresh RSA-2048 key in
// PKCS#1 PEM, the kind ZITADEL generates.
func (s *Server) NewApplication() *Application {
	signer, pemBytes := generateKey(KeyRSA)
	app := &Application{AppID: s.newID(), KeyID: s.newID(), PrivateKey: signer}
	app.ClientID = s.newID() + "@serviceusertest"
	app.KeyFile = marshalAppKeyFile(app, pemBytes)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appKeys[app.KeyID] = &appKey{clientID: app.ClientID, key: signer.Public()}
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
func (s *Server) lookupAppKey(keyID, clientID string, _ time.Time) (crypto.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.appKeys[keyID]
	if !ok || k.clientID != clientID {
		return nil, fmt.Errorf("%w: application kid %q for iss %q", ErrKeyNotFound, keyID, clientID)
	}
	return k.key, nil
}

// IntrospectionURL returns the introspection endpoint,
// Issuer()+"/oauth/v2/introspect".
func (s *Server) IntrospectionURL() string { return s.srv.URL + introspectPath }

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
// applications authenticated by an RFC 7523 section 2.2 client assertion.
func (s *Server) serveIntrospection(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if f, ok := s.countIntrospection(); ok {
		s.serveFault(w, r, f)
		return
	}
	appClientID, err := s.checkIntrospection(r)
	switch e := err.(type) {
	case nil:
		writeJSON(w, http.StatusOK, s.introspect(r.PostForm.Get("token"), appClientID))
	case *clientError:
		writeClientError(w, e)
	case *requestError:
		writeJSON(w, http.StatusBadRequest, oauthError{e.code, e.description})
	}
}

// countIntrospection counts the request and takes the pending fault, if any.
func (s *Server) countIntrospection() (Fault, bool) {
	return s.count(&s.introspectionRequests, &s.introspectionFaults)
}

// checkIntrospection validates the form and the client assertion and returns
// the authenticated application's client ID.
func (s *Server) checkIntrospection(r *http.Request) (string, error) {
	if err := parsePostForm(r); err != nil {
		return "", err
	}
	clientID, err := s.authenticateApplication(r)
	if err != nil {
		return "", err
	}
	if r.PostForm.Get("token") == "" {
		return "", &requestError{"invalid_request", "token missing"}
	}
	return clientID, nil
}

// authenticateApplication checks the client assertion with the JWT profile
// checker, against application keys only.
func (s *Server) authenticateApplication(r *http.Request) (string, error) {
	_, _, basic := r.BasicAuth()
	if at := r.PostForm.Get("client_assertion_type"); at != ClientAssertionType {
		return "", invalidClient(basic, "client_assertion_type must be %q, got %q", ClientAssertionType, at)
	}
	clientID, err := s.verifyAssertionWith(r.PostForm.Get("client_assertion"), s.clock(), s.lookupAppKey)
	if err != nil {
		return "", invalidClient(basic, "client assertion: %w", err)
	}
	return clientID, nil
}

// introspect describes token as seen by the application appClientID.
func (s *Server) introspect(token, appClientID string) introspection {
	t, ok := s.validToken(token)
	if !ok {
		return introspection{}
	}
	s.mu.Lock()
	username := s.users[t.userID].username
	s.mu.Unlock()
	out := introspection{
		Active:    true,
		Subject:   t.userID,
		ClientID:  t.clientID,
		Username:  username,
		Scope:     strings.Join(t.scopes, " "),
		IssuedAt:  t.issuedAt.Unix(),
		TokenType: "Bearer",
		Audience:  audienceOf(t.clientID, appClientID),
		Issuer:    s.Issuer(),
	}
	if !t.expiry.Equal(NoExpiry) {
		out.ExpiresAt = t.expiry.Unix()
	}
	return out
}

// audienceOf lists the token's client and the introspecting application, so
// an API that checks it is in the audience accepts every active token.
func audienceOf(tokenClient, appClient string) []string {
	if tokenClient == appClient {
		return []string{tokenClient}
	}
	return []string{tokenClient, appClient}
}
