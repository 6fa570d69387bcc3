package conformance

import (
	"context"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// The settings ZITADEL gives the assertion checker:
// op.NewJWTProfileVerifier(storage, issuer, time.Hour, time.Second).
const (
	zitadelMaxAgeIAT = time.Hour
	zitadelLeeway    = time.Second
)

// RefereeOption changes the checker of a referee.
type RefereeOption func(*refereeConfig)

type refereeConfig struct {
	leeway time.Duration
	// subjectLookup selects ZITADEL's subject check over iss == sub.
	subjectLookup bool
}

// WithLeeway replaces the assertion checker's clock tolerance, which is one
// second on ZITADEL. It exists to show that comparisons against the referee
// notice a checker with a different tolerance.
func WithLeeway(d time.Duration) RefereeOption {
	return func(c *refereeConfig) { c.leeway = d }
}

// WithZitadelSubjectCheck replaces the checker's iss == sub rule by the
// subject check ZITADEL's server configures (op.SubjectCheck with a user
// lookup): "sub" must name a known user; the key is still looked up by
// (kid, iss), and the token is issued for "sub". The referee's server makes
// the user lookup once the checker has accepted the assertion, and refuses an
// unknown user with serviceusertest.ErrUserNotFound. The default is
// zitadel/oidc's own rule, which ZITADEL's documentation states: iss must
// equal sub.
func WithZitadelSubjectCheck() RefereeOption {
	return func(c *refereeConfig) { c.subjectLookup = true }
}

// NewReferee starts serviceusertest's fake ZITADEL with its assertion checks
// replaced by ZITADEL's checker (ZitadelVerifier). Everything around the
// assertion, answers included, is the fake's: refused assertions get 500
// server_error "Errors.Internal", and Rejections holds the checker's own
// errors (oidc.ErrExpired, ...). It accepts P-256 keys (AddKey), as the
// checker verifies ES256. The caller must call Close.
//
// The checker reads time.Now directly: to test a client clock that is off,
// shift the times in the assertion, or run the referee inside a
// testing/synctest bubble, whose fake clock the checker then reads.
func NewReferee(opts ...RefereeOption) *serviceusertest.Server {
	return serviceusertest.NewServer(serviceusertest.WithECKeys(),
		serviceusertest.WithAssertionVerifier(ZitadelVerifier(opts...)))
}

// ZitadelVerifier returns ZITADEL's assertion checker: zitadel/oidc's
// op.VerifyJWTAssertion with ZITADEL's settings (iat at most one hour old,
// one second of tolerance) and a key lookup by (kid, iss).
func ZitadelVerifier(opts ...RefereeOption) serviceusertest.AssertionVerifier {
	c := refereeConfig{leeway: zitadelLeeway}
	for _, o := range opts {
		o(&c)
	}
	var vopts []op.JWTProfileVerifierOption
	if c.subjectLookup {
		vopts = append(vopts, op.SubjectCheck(anySubject))
	}
	return func(ctx context.Context, assertion, issuer string, keys serviceusertest.KeyLookup) (string, error) {
		v := op.NewJWTProfileVerifier(keyStorage(keys), issuer, zitadelMaxAgeIAT, c.leeway, vopts...)
		claims, err := op.VerifyJWTAssertion(ctx, assertion, v)
		if err != nil {
			return "", err
		}
		return claims.Subject, nil
	}
}

// anySubject leaves the user lookup of ZITADEL's subject check to the server.
func anySubject(*oidc.JWTTokenRequest) error { return nil }

// keyStorage serves the checker's key lookup from a server's keys.
type keyStorage serviceusertest.KeyLookup

// GetKeyByIDAndClientID implements op.JWTProfileKeyStorage.
func (k keyStorage) GetKeyByIDAndClientID(_ context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	pub, err := k(keyID, clientID)
	if err != nil {
		return nil, err
	}
	return &jose.JSONWebKey{KeyID: keyID, Use: oidc.KeyUseSignature, Key: pub}, nil
}
