package jwks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/internal/discovery"
	"github.com/go-serviceuser/serviceuser/internal/httpcall"
)

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// setVia is a Set whose requests rt answers, the caller's timeout 10 s.
func setVia(rt roundTripperFunc) *Set {
	c := httpcall.New(&http.Client{Transport: rt}, 10*time.Second)
	return New(c, func(context.Context) (string, error) { return keysURL, nil },
		func(e *discovery.Error) error { return fmt.Errorf("wrapped: %s: %w", e.Problem, e.Err) })
}

// A key set endpoint that is hostile or misconfigured costs a bounded
// read and a bounded wait, and is never followed elsewhere.
func TestHostileKeySetAnswers(t *testing.T) {
	synctestRun(t, func(t *testing.T) {
		var requests []string
		huge := `{"keys":[` + strings.Repeat(`{"kty":"RSA"},`, httpcall.MaxResponseSize/13) + `{}]}`
		for _, c := range []struct {
			name string
			rt   roundTripperFunc
			want error
		}{
			{"body over 1 MiB", func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(huge))}, nil
			}, httpcall.ErrResponseTooLarge},
			{"redirect to another host", func(r *http.Request) (*http.Response, error) {
				requests = append(requests, r.URL.String())
				return &http.Response{StatusCode: http.StatusFound, Header: http.Header{"Location": {"https://evil.example/keys"}},
					Body: io.NopCloser(strings.NewReader(""))}, nil
			}, nil},
			{"no answer", func(r *http.Request) (*http.Response, error) {
				<-r.Context().Done()
				return nil, r.Context().Err()
			}, context.DeadlineExceeded},
		} {
			start := time.Now()
			_, err := setVia(c.rt).Key(context.Background(), "a")
			require.Error(t, err, c.name)
			require.NotErrorIs(t, err, ErrUnknownKey, c.name)
			if c.want != nil {
				require.ErrorIs(t, err, c.want, c.name)
			}
			require.LessOrEqual(t, time.Since(start), 10*time.Second, c.name)
		}
		require.Equal(t, []string{keysURL}, requests, "the redirect was not followed")
	})
}

// RSA keys whose exponent or size makes signatures forgeable or checks
// slow are refused by name.
func TestRefusedRSAParameters(t *testing.T) {
	synctestRun(t, func(t *testing.T) {
		pub := &testKeys()[0].PublicKey
		withE := func(kid string, e int64) map[string]any {
			k := rsaJWK(kid, pub)
			k["e"] = b64(big.NewInt(e).Bytes())
			return k
		}
		big9000 := rsaJWK("big", pub)
		big9000["n"] = b64(append([]byte{1}, make([]byte, 9000/8)...))
		zeroLead := rsaJWK("zero", pub)
		zeroLead["n"] = b64(append([]byte{0}, pub.N.Bytes()...))
		s := newServer(withE("e1", 1), withE("e2", 2), withE("e65536", 65536), withE("e5bytes", 1<<32+1), big9000, zeroLead, rsaJWK("ok", pub))
		set := newSet(s)
		for kid, problem := range map[string]string{
			"e1": "bad exponent", "e2": "bad exponent", "e65536": "bad exponent", "e5bytes": "malformed exponent",
			"big": "9001-bit key, over 8192", "zero": "malformed modulus",
		} {
			_, err := set.Key(context.Background(), kid)
			var ke *KeyError
			require.True(t, errors.As(err, &ke), kid)
			require.Equal(t, problem, ke.Problem, kid)
		}
		_, err := set.Key(context.Background(), "ok")
		require.NoError(t, err)
	})
}
