package serviceusertest

import (
	"crypto"
	"fmt"
	"net/http"
	"time"
)

// ServiceUser is a machine user registered on the Server, with one key.
type ServiceUser struct {
	// UserID is the user's ID: "iss" and "sub" of its assertions.
	UserID string
	// KeyID is the key's ID: "kid" of its assertions.
	KeyID string
	// Username is the user's login name.
	Username string
	// OrgID is the ID of the organization the user belongs to.
	OrgID string
	// KeyFile is the JSON key file exactly as ZITADEL writes it.
	KeyFile []byte
	// PrivateKey is the key, for tests that sign their own assertions.
	PrivateKey crypto.Signer
}

type user struct {
	id          string
	username    string
	name        string
	email       string
	org         string
	deactivated bool
	life        lifespan // when it was made
	membership  Membership
	roles       map[string][]string // granted role keys by project ID, see GrantRole
	jwt         bool                // SetJWTAccessTokens
}

// NewServiceUser registers a machine user with a fresh KeyRSA key.
func (s *Server) NewServiceUser() *ServiceUser {
	return s.NewServiceUserWithKey(KeyRSA)
}

// NewServiceUserWithKey registers a machine user with a fresh key of the
// given kind. It panics on an unknown kind, and on KeyEC unless the server
// was started WithECKeys.
func (s *Server) NewServiceUserWithKey(kind KeyKind) *ServiceUser {
	if kind == KeyEC && !s.ecKeys {
		panic("serviceusertest: ZITADEL makes RSA keys only; start the server WithECKeys() to mint KeyEC")
	}
	u := s.addUser()
	keyID, signer, file := s.addKeyFile(u.id, kind)
	return &ServiceUser{
		UserID:     u.id,
		KeyID:      keyID,
		Username:   u.username,
		OrgID:      u.org,
		KeyFile:    file,
		PrivateKey: signer,
	}
}

func (s *Server) addUser() *user {
	id := s.newID()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.users) + 1
	u := &user{
		id:       id,
		username: fmt.Sprintf("service-user-%d", n),
		name:     fmt.Sprintf("Service User %d", n),
		email:    fmt.Sprintf("service-user-%d@example.com", n),
		org:      s.defaultOrg,
		life:     lifespan{created: time.Now()},
	}
	s.users[id] = u
	return u
}

// DeactivateUser deactivates a user: its keys and secret then get 400
// invalid_request "Errors.User.NotActive" at the token endpoint, as on
// ZITADEL. Tokens already issued stay valid. It panics if the user is
// unknown.
func (s *Server) DeactivateUser(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustUser("DeactivateUser", userID).deactivated = true
}

// mustUser returns the user with ID userID, or panics naming caller; s.mu
// must be held.
func (s *Server) mustUser(caller, userID string) *user {
	u, ok := s.users[userID]
	if !ok {
		panic(fmt.Sprintf("serviceusertest: %s: unknown user %q", caller, userID))
	}
	return u
}

// userNotFound is ZITADEL's description for a user it does not know, or
// does not see yet.
const userNotFound = "Errors.User.NotFound"

// checkProjected refuses a JWT profile grant for a user the user projection
// does not show yet (see SetUserProjectionLag).
func (s *Server) checkProjected(userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[userID]; ok && u.life.seen(time.Now(), s.delay()+s.userLag) == notYet {
		return &requestError{status: http.StatusNotFound, code: "invalid_request", description: userNotFound,
			err: fmt.Errorf("%w: %q: %w", ErrUserNotFound, userID, ErrNotProjected)}
	}
	return nil
}

// checkActive refuses a deactivated user's token request.
func (s *Server) checkActive(userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[userID]; ok && u.deactivated {
		return &requestError{code: "invalid_request", description: ErrUserNotActive.Error(), err: ErrUserNotActive}
	}
	return nil
}
