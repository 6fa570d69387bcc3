package introspection

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// decodeClaims is the active Result of a JWT with the claims raw (not
// copied: the Result keeps it), the roles from projectID's claim (the
// generic one when projectID is empty): encoding/json's reading of raw into
// a map and then fromClaims', in one pass of the scanner when it reads raw.
func decodeClaims(raw []byte, projectID string) (*Result, error) {
	var room [maxInlineClaim]byte
	if r, err, ok := scanClaims(raw, rolesClaimName(room[:0], projectID)); ok {
		return r, err
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(raw, &claims); err != nil {
		return nil, err
	}
	if claims == nil {
		return nil, errors.New("introspection: the claims are null")
	}
	return fromClaims(claims, projectID)
}

// fromClaims is the active Result of a token with claims, those of an
// introspection answer or of a JWT access token, the roles from projectID's
// claim (the generic one when projectID is empty). decodeClaims reads a
// JWT's the same way without the map's decoding.
func fromClaims(claims map[string]json.RawMessage, projectID string) (*Result, error) {
	r := &Result{Active: true, claims: claims}
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
func claimIndex(name string, rolesClaim []byte) int {
	switch name {
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
	}
	if name == string(rolesClaim) {
		return kRoles
	}
	return kCount
}

// maxInlineMembers is how many members scanClaims holds on the stack
// before it counts them; ZITADEL's access tokens have about twelve.
const maxInlineMembers = 32

// scanClaims is decodeClaims by the scanner; ok is false when the scanner
// leaves raw to encoding/json. One string holds what the Result's strings
// are cut from; the claims map shares raw.
func scanClaims(raw []byte, rolesClaim []byte) (r *Result, err error, ok bool) {
	s := scanner{data: raw}
	if !s.consume('{') {
		return nil, nil, false
	}
	var inline [maxInlineMembers][2]span
	members := inline[:0]
	for first := true; ; first = false {
		name, value, more, ok := s.member(first)
		if !ok {
			return nil, nil, false
		}
		if !more {
			break
		}
		members = append(members, [2]span{name, value})
	}
	if !s.end() {
		return nil, nil, false
	}
	text := string(raw)
	r = &Result{Active: true, claims: make(map[string]json.RawMessage, len(members))}
	var known [kCount]span
	var seen [kCount]bool
	for _, m := range members {
		name, v := text[m[0].start:m[0].end], m[1]
		r.claims[name] = raw[v.start:v.end:v.end] // full slice: an append reallocates
		if k := claimIndex(name, rolesClaim); k < kCount {
			known[k], seen[k] = v, true // the last of a name, as in encoding/json's map
		}
	}
	fields := [kExp]*string{&r.Subject, &r.ClientID, &r.Username, &r.Scope, &r.TokenType, &r.Issuer, &r.JWTID,
		&r.ResourceOwner.ID, &r.ResourceOwner.Name, &r.ResourceOwner.PrimaryDomain}
	for k, into := range fields {
		if !seen[k] {
			continue
		}
		if v := known[k]; plainString(raw[v.start:v.end]) {
			*into = text[v.start+1 : v.end-1]
		} else if err := field(r.claims, knownClaims[k], into); err != nil {
			return nil, err, true
		}
	}
	dates := [kAud - kExp]*time.Time{&r.ExpiresAt, &r.IssuedAt, &r.NotBefore, &r.AuthTime}
	for i, into := range dates {
		if k := kExp + i; seen[k] {
			if *into, err = numericDate(raw[known[k].start:known[k].end]); err != nil {
				return nil, dateError(knownClaims[k], err), true
			}
		}
	}
	if v := known[kAud]; seen[kAud] {
		r.audience = scanAudience(raw, text, v)
	}
	if v := known[kAct]; seen[kAct] && !isNull(raw[v.start:v.end]) {
		r.actor = raw[v.start:v.end:v.end]
	}
	if v := known[kRoles]; seen[kRoles] {
		if r.roles, ok = scanRoles(raw, text, v); !ok {
			if err := field(r.claims, string(rolesClaim), &r.roles); err != nil {
				return nil, err, true
			}
		}
	}
	return r, nil, true
}
