package serviceusertest

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// GrantTypeClientCredentials is the client credentials grant (RFC 6749
// section 4.4), which ZITADEL serves for machine users with a secret.
const GrantTypeClientCredentials = "client_credentials"

// ErrInvalidClient is wrapped by every client authentication failure, at the
// token endpoint (see Rejections) and at the introspection endpoint: unknown
// client, wrong secret, malformed Basic header, missing credentials, or a
// client assertion the checker refused (that error is wrapped as well).
var ErrInvalidClient = errors.New("client authentication failed")

// patScopes are the scopes ZITADEL grants a personal access token.
var patScopes = []string{"openid", "profile", "urn:zitadel:iam:user:metadata", "urn:zitadel:iam:user:resourceowner"}

// secretAlphabet is what ZITADEL's generated client secrets are made of.
const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// clientSecret is a machine user's secret, stored under its client ID.
type clientSecret struct {
	userID string
	secret string
}

// clientError is a failed client authentication, answered with 401
// invalid_client.
type clientError struct {
	err   error
	basic bool // the client used HTTP Basic: answer with a Basic challenge
}

func (e *clientError) Error() string { return e.err.Error() }

func (e *clientError) Unwrap() error { return e.err }

// invalidClient returns a clientError wrapping ErrInvalidClient.
func invalidClient(basic bool, format string, args ...any) *clientError {
	return &clientError{err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidClient}, args...)...), basic: basic}
}

// writeClientError answers 401 invalid_client, with a Basic challenge when
// the client tried HTTP Basic (RFC 6749 section 5.2).
func writeClientError(w http.ResponseWriter, e *clientError) {
	if e.basic {
		w.Header().Set("WWW-Authenticate", "Basic")
	}
	writeJSON(w, http.StatusUnauthorized, oauthError{"invalid_client", e.Error()})
}

// NewServiceUserWithSecret registers a machine user that authenticates with
// the client_credentials grant, and returns it with its generated secret.
// Its Username is the client_id to send, as on ZITADEL; it has no key, so
// KeyID, KeyFile and PrivateKey are empty.
func (s *Server) NewServiceUserWithSecret() (*ServiceUser, string) {
	u := s.addUser()
	secret := randomSecret()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[u.username] = clientSecret{userID: u.id, secret: secret}
	return &ServiceUser{UserID: u.id, Username: u.username}, secret
}

// SetClientSecret replaces the secret of a user made by
// NewServiceUserWithSecret, for instance with one that needs escaping. The
// old secret stops working; tokens already issued stay valid. It panics if
// clientID is unknown.
func (s *Server) SetClientSecret(clientID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.secrets[clientID]
	if !ok {
		panic(fmt.Sprintf("serviceusertest: SetClientSecret: unknown client %q", clientID))
	}
	c.secret = secret
	s.secrets[clientID] = c
}

// randomSecret returns 64 random letters and digits, like ZITADEL's secrets.
func randomSecret() string {
	b := make([]byte, 64)
	size := big.NewInt(int64(len(secretAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, size)
		if err != nil {
			panic(err)
		}
		b[i] = secretAlphabet[n.Int64()]
	}
	return string(b)
}

// checkClientCredentials authenticates a client_credentials request whose
// form is already parsed and returns the token to issue.
func (s *Server) checkClientCredentials(r *http.Request, scopes []string) (*issuedToken, error) {
	id, secret, basic, err := clientSecretAuth(r)
	if err != nil {
		return nil, err
	}
	userID, err := s.checkSecret(id, secret, basic)
	if err != nil {
		return nil, err
	}
	return &issuedToken{userID: userID, clientID: id, scopes: scopes}, nil
}

// clientSecretAuth reads the client's credentials from HTTP Basic, each part
// form-URL-encoded (RFC 6749 section 2.3.1), or from the form fields
// client_id and client_secret, and says whether Basic was used. Sending the
// secret both ways is refused, as is a form client_id naming another client.
func clientSecretAuth(r *http.Request) (id, secret string, basic bool, err error) {
	formID, formSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	rawID, rawSecret, basic := r.BasicAuth()
	if !basic {
		return formID, formSecret, false, nil
	}
	if formSecret != "" {
		return "", "", true, &requestError{"invalid_request", "client credentials sent both with HTTP Basic and in the form: use only one method"}
	}
	id, errID := url.QueryUnescape(rawID)
	secret, errSecret := url.QueryUnescape(rawSecret)
	if err := errors.Join(errID, errSecret); err != nil {
		return "", "", true, invalidClient(true, "invalid basic auth header: parts must be form-URL-encoded: %v", err)
	}
	if formID != "" && formID != id {
		return "", "", true, &requestError{"invalid_request", "client_id in the form differs from the one in HTTP Basic"}
	}
	return id, secret, true, nil
}

// checkSecret returns the user whose client ID and secret these are.
func (s *Server) checkSecret(id, secret string, basic bool) (string, error) {
	s.mu.Lock()
	c, ok := s.secrets[id]
	s.mu.Unlock()
	switch {
	case id == "":
		return "", invalidClient(basic, "no client credentials")
	case !ok:
		return "", invalidClient(basic, "unknown client %q", id)
	case subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1:
		return "", invalidClient(basic, "wrong secret for client %q", id)
	}
	return c.userID, nil
}

// NewPersonalAccessToken makes a personal access token for an existing user,
// valid at userinfo and introspection until revoked with RevokeToken or until
// expiry by the server clock. The zero expiry means it never expires. It
// panics if the user is unknown.
func (s *Server) NewPersonalAccessToken(userID string, expiry time.Time) string {
	if expiry.IsZero() {
		expiry = NoExpiry
	}
	token, now := randomToken(), s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userID]; !ok {
		panic(fmt.Sprintf("serviceusertest: NewPersonalAccessToken: unknown user %q", userID))
	}
	s.tokens[token] = &issuedToken{userID: userID, clientID: userID, scopes: slices.Clone(patScopes), issuedAt: now, expiry: expiry}
	return token
}
