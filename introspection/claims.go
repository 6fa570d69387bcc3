package introspection

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// decodeClaims is the active Result of a JWT with the claims raw, the
// roles from projectID's claim (the generic one when projectID is empty),
// and whether the claims have an "active" member: encoding/json's reading
// of raw into a map and then fromClaims', in one pass of the scanner when
// it reads raw. raw is neither kept nor handed to encoding/json, and may
// be on the caller's stack.
func decodeClaims(raw []byte, projectID string) (r *Result, active bool, err error) {
	var room [maxInlineClaim]byte
	if r, active, err, ok := scanClaims(raw, rolesClaimName(room[:0], projectID)); ok {
		return r, active, err
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(bytes.Clone(raw), &claims); err != nil {
		return nil, false, err
	}
	if claims == nil {
		return nil, false, errors.New("introspection: the claims are null")
	}
	_, active = claims["active"]
	r, err = fromClaims(claims, projectID)
	return r, active, err
}

// fromClaims is the active Result of a token with claims, those of an
// introspection answer or of a JWT access token, the roles from projectID's
// claim (the generic one when projectID is empty). decodeClaims reads a
// JWT's the same way without the map's decoding.
func fromClaims(claims map[string]json.RawMessage, projectID string) (*Result, error) {
	r := &Result{Active: true, claims: &claimSet{m: claims}}
	for _, name := range idTokenClaims {
		_, found := claims[name]
		r.claims.idToken = r.claims.idToken || found
	}
	var room [maxInlineClaim]byte
	fields := [kExp]*string{&r.Subject, &r.ClientID, &r.Username, &r.Scope, &r.TokenType, &r.Issuer, &r.JWTID,
		&r.ResourceOwner.ID, &r.ResourceOwner.Name, &r.ResourceOwner.PrimaryDomain}
	for k, into := range fields {
		if err := field(claims, knownClaims[k], into); err != nil {
			return nil, err
		}
	}
	if err := field(claims, string(rolesClaimName(room[:0], projectID)), &r.roles); err != nil {
		return nil, err
	}
	dates := [kAud - kExp]*time.Time{&r.ExpiresAt, &r.IssuedAt, &r.NotBefore, &r.AuthTime}
	for i, into := range dates {
		t, err := numericDate(claims[knownClaims[kExp+i]])
		if err != nil {
			return nil, dateError(knownClaims[kExp+i], err)
		}
		*into = t
	}
	r.audience = audience(claims["aud"])
	if act := claims["act"]; !isNull(act) {
		r.actor = act
	}
	return r, nil
}

// dateError is the error of the date claim name.
func dateError(name string, err error) error { return fmt.Errorf("introspection: %q: %w", name, err) }

// maxInlineClaim is the room on the stack for the name of the roles claim.
const maxInlineClaim = 128

// rolesClaimName is the name of projectID's roles claim, appended to dst.
func rolesClaimName(dst []byte, projectID string) []byte {
	if projectID == "" {
		return append(dst, claimRoles...)
	}
	return append(append(append(dst, claimProjectPrefix...), projectID...), ":roles"...)
}

// The claims a Result reads, by their index in scanClaims' spans.
const (
	kSub = iota
	kClientID
	kUsername
	kScope
	kTokenType
	kIssuer
	kJWTID
	kOwnerID
	kOwnerName
	kOwnerDomain
	kExp
	kIat
	kNbf
	kAuthTime
	kAud
	kAct
	kRoles
	kActive
	kIDToken // any of idTokenClaims
	kCount
)

// knownClaims are the names of the claims of the first indexes, which
// hold strings, or dates from kExp.
var knownClaims = [kAud]string{
	kSub: "sub", kClientID: "client_id", kUsername: "username", kScope: "scope", kTokenType: "token_type",
	kIssuer: "iss", kJWTID: "jti", kOwnerID: claimOwner + ":id", kOwnerName: claimOwner + ":name",
	kOwnerDomain: claimOwner + ":primary_domain", kExp: "exp", kIat: "iat", kNbf: "nbf", kAuthTime: "auth_time",
}

// claimIndex is the index of the claim name, kCount for one not read.
func claimIndex(name []byte, rolesClaim []byte) int {
	switch string(name) {
	case "sub":
		return kSub
	case "client_id":
		return kClientID
	case "username":
		return kUsername
	case "scope":
		return kScope
	case "token_type":
		return kTokenType
	case "iss":
		return kIssuer
	case "jti":
		return kJWTID
	case claimOwner + ":id":
		return kOwnerID
	case claimOwner + ":name":
		return kOwnerName
	case claimOwner + ":primary_domain":
		return kOwnerDomain
	case "exp":
		return kExp
	case "iat":
		return kIat
	case "nbf":
		return kNbf
	case "auth_time":
		return kAuthTime
	case "aud":
		return kAud
	case "act":
		return kAct
	case "active":
		return kActive
	}
	if bytes.Equal(name, rolesClaim) {
		return kRoles
	}
	for _, other := range idTokenClaims {
		if string(name) == other {
			return kIDToken
		}
	}
	return kCount
}

// scanClaims is decodeClaims by the scanner; ok is false when the scanner
// leaves raw to encoding/json. One string holds what the Result's strings
// are cut from, and its members (see claimSet).
func scanClaims(raw []byte, rolesClaim []byte) (r *Result, active bool, err error, ok bool) {
	s := scanner{data: raw}
	if !s.consume('{') {
		return nil, false, nil, false
	}
	var known [kCount]span
	var seen [kCount]bool
	for first := true; ; first = false {
		name, value, more, ok := s.member(first)
		if !ok {
			return nil, false, nil, false
		}
		if !more {
			break
		}
		if k := claimIndex(raw[name.start:name.end], rolesClaim); k < kCount {
			known[k], seen[k] = value, true // the last of a name, as in encoding/json's map
		}
	}
	if !s.end() {
		return nil, false, nil, false
	}
	text := string(raw)
	both := &struct { // one allocation for the two
		r Result
		c claimSet
	}{r: Result{Active: true}, c: claimSet{text: text, idToken: seen[kIDToken]}}
	r = &both.r
	r.claims = &both.c
	fields := [kExp]*string{&r.Subject, &r.ClientID, &r.Username, &r.Scope, &r.TokenType, &r.Issuer, &r.JWTID,
		&r.ResourceOwner.ID, &r.ResourceOwner.Name, &r.ResourceOwner.PrimaryDomain}
	for k, into := range fields {
		if v := known[k]; !seen[k] {
			continue
		} else if plainString(raw[v.start:v.end]) {
			*into = text[v.start+1 : v.end-1]
		} else if err := decodeField(knownClaims[k], []byte(text[v.start:v.end]), into); err != nil {
			return nil, false, err, true
		}
	}
	dates := [kAud - kExp]*time.Time{&r.ExpiresAt, &r.IssuedAt, &r.NotBefore, &r.AuthTime}
	for i, into := range dates {
		if k := kExp + i; seen[k] {
			if *into, err = numericDate(raw[known[k].start:known[k].end]); err != nil {
				return nil, false, dateError(knownClaims[k], err), true
			}
		}
	}
	if v := known[kAud]; seen[kAud] {
		r.audience = scanAudience(raw, text, v)
	}
	if v := known[kAct]; seen[kAct] && !isNull(raw[v.start:v.end]) {
		r.actor = json.RawMessage(text[v.start:v.end])
	}
	if v := known[kRoles]; seen[kRoles] {
		if r.roles, ok = scanRoles(raw, text, v); !ok {
			if err := decodeField(string(rolesClaim), []byte(text[v.start:v.end]), &r.roles); err != nil {
				return nil, false, err, true
			}
		}
	}
	return r, seen[kActive], nil, true
}
