package serviceuser

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// clockSink keeps the time.Now floor from being optimised away.
var clockSink atomic.Int64

// BenchmarkCachedToken compares the cached read with oauth2.ReuseTokenSource
// serving the same token, from parallel goroutines (-cpu sets how many), and
// shows the cost of time.Now that both pay.
func BenchmarkCachedToken(b *testing.B) {
	tok := &oauth2.Token{AccessToken: "at", TokenType: "Bearer", Expiry: time.Now().Add(12 * time.Hour)}
	fetch := func(context.Context) (*oauth2.Token, error) { return tok, nil }

	ts := newTestSource(context.Background(), fetch)
	defer ts.Close()
	reuse := oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(tok))

	// The floor: reading the clock, which every peer's check of expiry pays.
	b.Run("time.Now", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			var last time.Time
			for pb.Next() {
				last = time.Now()
			}
			clockSink.Store(last.UnixNano())
		})
	})
	for _, peer := range []struct {
		name string
		src  oauth2.TokenSource
	}{{"serviceuser", ts}, {"oauth2.ReuseTokenSource", reuse}} {
		if _, err := peer.src.Token(); err != nil {
			b.Fatal(err)
		}
		b.Run(peer.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := peer.src.Token(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func TestCachedTokenAllocatesNothing(t *testing.T) {
	tok := &oauth2.Token{AccessToken: "at", Expiry: time.Now().Add(time.Hour)}
	ts := newTestSource(context.Background(), func(context.Context) (*oauth2.Token, error) { return tok, nil })
	defer ts.Close()
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(1000, func() { ts.Token() }); allocs != 0 {
		t.Fatalf("cached Token() allocates %v times", allocs)
	}
}
