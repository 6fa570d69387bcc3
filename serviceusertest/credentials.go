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

// ErrInvalidClient is wrapped by every client authentication failure at the
// token endpoint (see Rejections): unknown client, wrong or not yet projected
// secret, malformed Basic header, missing credentials.
var ErrInvalidClient = errors.New("client authentication failed")

// ZITADEL's descriptions for a refused client secret.
const (
	secretInvalid     = "Errors.User.Machine.Secret.Invalid"
	secretNotExisting = "Errors.User.Machine.Secret.NotExisting"
)

// patScopes are the scopes ZITADEL grants a personal access token.
var patScopes = []string{"openid", "profile", "urn:zitadel:iam:user:metadata", "urn:zitadel:iam:user:resourceowner"}

// secretAlphabet is what ZITADEL's generated client secrets are made of.
const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// clientSecret is one version of a machine user's secret, stored under its
// client ID.
type clientSecret struct {
	userID string
	secret string
	life   lifespan
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
	s.secrets[u.username] = []*clientSecret{{userID: u.id, secret: secret, life: lifespan{created: time.Now()}}}
	return &ServiceUser{UserID: u.id, Username: u.username, OrgID: u.org}, secret
}

// SetClientSecret replaces the secret of a user made by
// NewServiceUserWithSecret, for instance with one that needs escaping. The
// old secret stops working and the new one starts to (both after the
// projection delay, see SetProjectionDelay); tokens already issued stay
// valid. It panics if clientID is unknown.
func (s *Server) SetClientSecret(clientID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	versions, ok := s.secrets[clientID]
	if !ok {
		panic(fmt.Sprintf("serviceusertest: SetClientSecret: unknown client %q", clientID))
	}
	for _, v := range versions {
		v.life.markDeleted(time.Now())
	}
	s.secrets[clientID] = append(versions, &clientSecret{userID: versions[0].userID, secret: secret, life: lifespan{created: time.Now()}})
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
	if err := s.checkActive(userID); err != nil {
		return nil, err
	}
	return s.newToken(userID, scopes), nil
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
		return "", "", true, badRequest("invalid_request", "client credentials sent both with HTTP Basic and in the form: use only one method")
	}
	id, errID := url.QueryUnescape(rawID)
	secret, errSecret := url.QueryUnescape(rawSecret)
	if err := errors.Join(errID, errSecret); err != nil {
		return "", "", true, invalidClient(true, "invalid basic auth header: parts must be form-URL-encoded: %v", err)
	}
	if formID != "" && formID != id {
		return "", "", true, badRequest("invalid_request", "client_id in the form differs from the one in HTTP Basic")
	}
	return id, secret, true, nil
}

// checkSecret returns the user whose client ID and secret these are. A wrong
// secret gets ZITADEL's 400, not 401.
func (s *Server) checkSecret(id, secret string, basic bool) (string, error) {
	now := s.clock()
	s.mu.Lock()
	versions, ok := s.secrets[id]
	current := s.projectedSecret(versions, now)
	s.mu.Unlock()
	switch {
	case id == "":
		return "", invalidClient(basic, "no client credentials")
	case !ok:
		return "", invalidClient(basic, "unknown client %q", id)
	case current == nil:
		return "", secretRefused(secretNotExisting, "no secret of client %q projected yet: %w", id, ErrNotProjected)
	case subtle.ConstantTimeCompare([]byte(current.secret), []byte(secret)) != 1:
		return "", secretRefused(secretInvalid, "wrong secret for client %q", id)
	}
	return current.userID, nil
}

// projectedSecret returns the secret version a reader of the projections
// sees at now, or nil; s.mu must be held.
func (s *Server) projectedSecret(versions []*clientSecret, now time.Time) *clientSecret {
	for i := len(versions) - 1; i >= 0; i-- {
		if versions[i].life.seen(time.Now(), s.delay()) == visible {
			return versions[i]
		}
	}
	return nil
}

// secretRefused is ZITADEL's 400 invalid_request for a refused secret; the
// reason wraps ErrInvalidClient.
func secretRefused(description, format string, args ...any) *requestError {
	err := fmt.Errorf("%w: "+format, append([]any{ErrInvalidClient}, args...)...)
	return &requestError{code: "invalid_request", description: description, err: err}
}

// NewPersonalAccessToken makes a personal access token for an existing user,
// valid at userinfo and the Management API until deleted with RevokeToken or
// until expiry by the server clock (both after the projection delay, see
// SetProjectionDelay). As on ZITADEL its audience is ZITADEL's own project:
// an API application's introspection reports it inactive. The zero expiry
// means it never expires. It panics if the user is unknown.
func (s *Server) NewPersonalAccessToken(userID string, expiry time.Time) string {
	if expiry.IsZero() {
		expiry = NoExpiry
	}
	token, now := randomToken(), s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.mustUser("NewPersonalAccessToken", userID)
	s.tokens[token] = &issuedToken{
		id: s.newIDLocked(), userID: userID, clientID: u.username, scopes: slices.Clone(patScopes),
		audience: []string{s.zitadelProject}, issuedAt: now, expiry: expiry,
		pat: true, life: lifespan{created: time.Now()},
	}
	return token
}
