package jwks

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Bounds on the RSA keys used. ZITADEL makes 2048-bit keys; a shorter one is
// refused, and one over maxBits would make each check slow for no reason.
const (
	minBits = 2048
	maxBits = 8192
)

// jsonKey is the part of a JSON Web Key (RFC 7517) that is read.
type jsonKey struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// parse reads a key set: every key with a kid, each either usable for RS256
// or with why it is not. Keys without a kid are left out, as no token can
// name them; two keys with one kid are both refused; a set left with no key
// is an error.
func parse(body []byte) (map[string]entry, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, errors.New("not a JSON key set")
	}
	if set.Keys == nil {
		return nil, errors.New(`no "keys" array`)
	}
	keys := make(map[string]entry, len(set.Keys))
	for _, raw := range set.Keys {
		var k jsonKey
		if json.Unmarshal(raw, &k) != nil || k.Kid == "" {
			continue
		}
		if _, dup := keys[k.Kid]; dup {
			keys[k.Kid] = entry{err: &KeyError{KID: k.Kid, Problem: "two keys of the set share this kid"}}
			continue
		}
		pub, problem := k.rsa()
		if problem != "" {
			keys[k.Kid] = entry{err: &KeyError{KID: k.Kid, Problem: problem}}
			continue
		}
		keys[k.Kid] = entry{key: pub}
	}
	if len(keys) == 0 {
		// ZITADEL's set always holds the key it signs with: an answer without
		// any is broken, and would otherwise refuse every token as forged.
		return nil, errors.New("no key with a kid")
	}
	return keys, nil
}

// rsa returns the key as an RSA key for RS256 signatures, or why it is not one.
func (k jsonKey) rsa() (*rsa.PublicKey, string) {
	switch {
	case k.Kty != "RSA":
		return nil, "not an RSA key (kty " + strconv.Quote(k.Kty) + ")"
	case k.Alg != "" && k.Alg != "RS256":
		return nil, "meant for " + strconv.Quote(k.Alg) + ", not RS256"
	case k.Use != "" && k.Use != "sig":
		return nil, "meant for use " + strconv.Quote(k.Use) + ", not signatures"
	}
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil || len(n) == 0 || n[0] == 0 {
		return nil, "malformed modulus"
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil || len(e) == 0 || len(e) > 4 || e[0] == 0 {
		return nil, "malformed exponent"
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	switch bits := pub.N.BitLen(); {
	case bits < minBits:
		return nil, strconv.Itoa(bits) + "-bit key, under " + strconv.Itoa(minBits)
	case bits > maxBits:
		return nil, strconv.Itoa(bits) + "-bit key, over " + strconv.Itoa(maxBits)
	case pub.E < 3 || pub.E%2 == 0 || pub.E > 1<<31-1:
		return nil, "bad exponent"
	}
	return pub, ""
}

// MaxAge is how long an answer with these Cache-Control values is used:
// its max-age, DefaultMaxAge without one, MinMaxAge for no-store or
// no-cache, all within MinMaxAge and MaxMaxAge.
func MaxAge(cacheControl []string) time.Duration {
	age := DefaultMaxAge
	for _, v := range cacheControl {
		for d := range strings.SplitSeq(v, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(name) {
			case "no-store", "no-cache":
				return MinMaxAge
			case "max-age":
				if s, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64); err == nil && s >= 0 {
					age = time.Duration(min(s, int64(MaxMaxAge/time.Second))) * time.Second
				}
			}
		}
	}
	return min(max(age, MinMaxAge), MaxMaxAge)
}
