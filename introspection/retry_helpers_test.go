package introspection_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-serviceuser/serviceuser/hooks"
	"github.com/go-serviceuser/serviceuser/introspection"
)

// failure is how scripted answers one introspection request.
type failure int

const (
	answer       failure = iota // {"active":true}
	internal                    // ZITADEL's 500 Errors.Internal
	proxyHTML                   // a proxy's HTML 503 page
	htmlOK                      // 200 with an HTML page instead of JSON
	reset                       // no answer: the connection is reset
	cut                         // the answer's body cut mid-way
	badRequest                  // 400 invalid_request
	unauthorized                // 401 invalid_client
	limited                     // 429 with the Retry-After in scripted.after
	inactive                    // {"active":false}: also a refused client assertion
	hang                        // no answer until the request's context ends
)

// scripted is a fake ZITADEL whose introspection endpoint answers each
// request as script says (by the request's number, from 1), counting them
// and the introspected tokens. It runs in the caller's goroutine, so it
// works inside a synctest bubble.
type scripted struct {
	script func(n int, token string) failure
	after  string // Retry-After of a 429

	mu      sync.Mutex
	n       int
	tokens  map[string]int
	hanging int // requests held now
}

func (s *scripted) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == discoveryPath {
		rec := httptest.NewRecorder()
		discoveryHandler(nil)(rec, r)
		return rec.Result(), nil
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	form, _ := url.ParseQuery(string(body))
	token := form.Get("token")
	s.mu.Lock()
	s.n++
	n := s.n
	if s.tokens == nil {
		s.tokens = map[string]int{}
	}
	s.tokens[token]++
	s.mu.Unlock()
	rec := httptest.NewRecorder()
	switch s.script(n, token) {
	case answer:
		rec.Header().Set("Content-Type", "application/json")
		io.WriteString(rec, `{"active":true,"sub":"user-1"}`)
	case inactive:
		rec.Header().Set("Content-Type", "application/json")
		io.WriteString(rec, `{"active":false}`)
	case internal:
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(http.StatusInternalServerError)
		io.WriteString(rec, `{"error":"server_error","error_description":"Errors.Internal"}`)
	case proxyHTML:
		rec.Header().Set("Content-Type", "text/html")
		rec.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(rec, "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>")
	case htmlOK:
		rec.Header().Set("Content-Type", "text/html")
		io.WriteString(rec, "<html><body>maintenance</body></html>")
	case reset:
		return nil, errors.New("read tcp: connection reset by peer")
	case hang:
		s.mu.Lock()
		s.hanging++
		s.mu.Unlock()
		<-r.Context().Done()
		s.mu.Lock()
		s.hanging--
		s.mu.Unlock()
		return nil, r.Context().Err()
	case cut:
		resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(io.MultiReader(strings.NewReader(`{"active":tr`), failingReader{})), Request: r}
		return resp, nil
	case badRequest:
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(http.StatusBadRequest)
		io.WriteString(rec, `{"error":"invalid_request","error_description":"token missing"}`)
	case unauthorized:
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(http.StatusUnauthorized)
		io.WriteString(rec, `{"error":"invalid_client","error_description":"client not found"}`)
	case limited:
		rec.Header().Set("Retry-After", s.after)
		rec.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(rec, "rate limited")
	}
	return rec.Result(), nil
}

// held is how many requests s holds now.
func (s *scripted) held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hanging
}

// failingReader ends a body as a dropped connection does.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// requests is how many introspection requests s got, for token when one is given.
func (s *scripted) requests(token ...string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(token) == 1 {
		return s.tokens[token[0]]
	}
	return s.n
}

// introspector is an introspector for s with the hooks h (may be nil) and
// at most slots requests in flight (0: the default).
func (s *scripted) introspector(t *testing.T, h *hooks.Hooks, slots int) *introspection.Introspector {
	t.Helper()
	in, err := introspection.Config{Key: applicationKey(t), Issuer: fakeIssuer, HTTPClient: &http.Client{Transport: s},
		Hooks: h, MaxConcurrentIntrospections: slots}.NewIntrospector(context.Background())
	require.NoError(t, err)
	return in
}

// deadline is a context that ends d from now on the bubble's clock.
func deadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
