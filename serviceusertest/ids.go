package serviceusertest

import (
	"crypto/rand"
	"math/big"
)

// firstID picks a random 18 digit starting point so IDs look like ZITADEL's
// and differ between servers.
func firstID() *big.Int {
	span := big.NewInt(100_000_000_000_000_000)
	n, err := rand.Int(rand.Reader, span)
	if err != nil {
		panic(err)
	}
	return n.Add(n, big.NewInt(200_000_000_000_000_000))
}

// newID returns a fresh numeric ID, unique within this server.
func (s *Server) newID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newIDLocked()
}

// newIDLocked is newID with s.mu held.
func (s *Server) newIDLocked() string {
	s.nextID.Add(s.nextID, big.NewInt(1))
	return s.nextID.String()
}
