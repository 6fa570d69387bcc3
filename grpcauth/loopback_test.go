package grpcauth

import "testing"

// TestIsLoopbackIgnoresCase: host names are case-insensitive, so LOCALHOST is
// loopback as localhost is, as the library's own rule says.
func TestIsLoopbackIgnoresCase(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "Svc.LocalHost": true, "127.0.0.1": true, "::1": true,
		"LOCALHOST.evil.com": false, "example.com": false, "10.0.0.1": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
