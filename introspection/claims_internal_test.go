package introspection

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// referenceClaims is the plain encoding/json reading of a JWT's claims,
// reflection for every claim, that decodeClaims must match.
func referenceClaims(raw []byte, projectID string) (*Result, error) {
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(raw, &claims); err != nil {
		return nil, err
	}
	if claims == nil {
		return nil, errors.New("null")
	}
	r := &Result{Active: true, claims: &claimSet{m: claims}}
	rolesClaim := "urn:zitadel:iam:org:project:roles"
	if projectID != "" {
		rolesClaim = "urn:zitadel:iam:org:project:" + projectID + ":roles"
	}
	for name, into := range map[string]any{
		"sub": &r.Subject, "client_id": &r.ClientID, "username": &r.Username, "scope": &r.Scope,
		"token_type": &r.TokenType, "iss": &r.Issuer, "jti": &r.JWTID,
		"urn:zitadel:iam:user:resourceowner:id": &r.ResourceOwner.ID, "urn:zitadel:iam:user:resourceowner:name": &r.ResourceOwner.Name,
		"urn:zitadel:iam:user:resourceowner:primary_domain": &r.ResourceOwner.PrimaryDomain, rolesClaim: &r.roles,
	} {
		if v, ok := claims[name]; ok {
			if err := json.Unmarshal(v, into); err != nil {
				return nil, err
			}
		}
	}
	for name, into := range map[string]*time.Time{"exp": &r.ExpiresAt, "iat": &r.IssuedAt, "nbf": &r.NotBefore, "auth_time": &r.AuthTime} {
		v := claims[name]
		if len(v) == 0 || string(v) == "null" {
			continue
		}
		var n json.Number
		if v[0] == '"' || json.Unmarshal(v, &n) != nil {
			return nil, errors.New("not a number")
		}
		if s, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
			*into = time.Unix(s, 0)
			continue
		}
		f, err := n.Float64()
		if err != nil || math.Abs(f) >= 1<<53 {
			return nil, errors.New("out of range")
		}
		s, frac := math.Modf(f)
		*into = time.Unix(int64(s), int64(frac*1e9))
	}
	var one string
	if err := json.Unmarshal(claims["aud"], &one); err == nil {
		r.audience = []string{one}
	} else if err := json.Unmarshal(claims["aud"], &r.audience); err != nil {
		r.audience = nil
	}
	if act := claims["act"]; len(act) > 0 && string(act) != "null" {
		r.actor = act
	}
	return r, nil
}

// sameAsReference fails t unless decodeClaims, and fromClaims of
// encoding/json's map (an introspection answer's way), read raw as
// referenceClaims does: the same fields, members and "active".
func sameAsReference(t *testing.T, raw []byte, projectID string) {
	t.Helper()
	want, wantErr := referenceClaims(raw, projectID)
	got, active, err := decodeClaims(raw, projectID)
	require.Equal(t, wantErr == nil, err == nil, "error: want %v, got %v, for %s", wantErr, err, raw)
	requireSameResult(t, want, got, "%s", raw)
	if want != nil {
		_, wantActive := want.Claim("active")
		require.Equal(t, wantActive, active, "active: %s", raw)
	}
	var claims map[string]json.RawMessage
	if json.Unmarshal(raw, &claims) == nil && claims != nil {
		got, err = fromClaims(claims, projectID)
		require.Equal(t, wantErr == nil, err == nil, "fromClaims error: want %v, got %v, for %s", wantErr, err, raw)
		requireSameResult(t, want, got, "fromClaims: %s", raw)
	}
}

// requireSameResult fails t unless want and got hold the same, their
// members compared by Claims.
func requireSameResult(t *testing.T, want, got *Result, msgAndArgs ...any) {
	t.Helper()
	if want == nil || got == nil {
		require.Equal(t, want == nil, got == nil, msgAndArgs...)
		return
	}
	require.Equal(t, want.Claims(), got.Claims(), msgAndArgs...)
	w, g := *want, *got
	w.claims, g.claims = nil, nil
	require.Equal(t, w, g, msgAndArgs...)
}

// claimCorpus are claim sets as ZITADEL sends them and odd but valid (or
// not) JSON around them; plain says whether the scanner reads them itself.
var claimCorpus = []struct {
	json  string
	plain bool
}{
	{`{"iss":"https://z.example","sub":"1","aud":["289","c1"],"exp":1700003600,"iat":1700000000,"nbf":1700000000,"client_id":"svc","jti":"j1",
	  "urn:zitadel:iam:org:project:289:roles":{"admin":{"o1":"o1.example"},"viewer":{"o1":"o1.example","o2":"o2.example"}},
	  "urn:zitadel:iam:org:project:roles":{"admin":{"o1":"o1.example"}},"urn:zitadel:iam:user:resourceowner:id":"o1",
	  "urn:zitadel:iam:user:resourceowner:name":"Org","urn:zitadel:iam:user:resourceowner:primary_domain":"o1.example",
	  "username":"svc","scope":"openid profile","token_type":"Bearer","auth_time":1700000000,"act":{"sub":"x"}}`, true},
	{`{"aud":"289","exp":1.7e9,"iat":1700000000.5,"nbf":-1}`, true},
	{` {"aud" : [ "289" , "c1" ] , "exp" : 17E8 , "x" : [ 1, -0.5e-3, true, false, null, {"a":[{}]} ] } `, true},
	{`{"aud":[],"roles":{},"urn:zitadel:iam:org:project:289:roles":{}}`, true},
	{`{"urn:zitadel:iam:org:project:289:roles":{"admin":{}}}`, true},
	{`{"sub":"a","sub":"b","aud":"x","aud":["289"],"urn:zitadel:iam:org:project:289:roles":{"a":{"o":"1"},"a":{"p":"2"}}}`, true},
	{`{"urn:zitadel:iam:org:project:289:roles":{"a":{"o":"1","o":"2"}}}`, true},
	{`{}`, true},
	{`{"active":false,"sub":"a"}`, true},
	{`{"active":null}`, true},
	{`{"sub":"\u00e9\"\\\/\b\f\n\r\t\ud83d\ude00","iss":"é","aud":["\u0032\u0038\u0039"],"scope":"日本"}`, true},
	{`{"sub":"\ud800","jti":"` + "\xff\xfe" + `","username":"a\u0000b"}`, true},
	{`{"aud":[null,"289"]}`, true},
	{`{"aud":null}`, true},
	{`{"aud":7}`, true},
	{`{"aud":["289",7]}`, true},
	{`{"sub":null,"iss":null,"exp":null,"act":null}`, true},
	{`{"sub":7}`, true},
	{`{"client_id":{"a":1}}`, true},
	{`{"exp":"1700000000"}`, true},
	{`{"exp":true}`, true},
	{`{"exp":1e300}`, true},
	{`{"exp":9007199254740993}`, true},
	{`{"exp":-9007199254740993.5}`, true},
	{`{"iat":1e-7}`, true},
	{`{"urn:zitadel:iam:org:project:289:roles":null}`, true},
	{`{"urn:zitadel:iam:org:project:289:roles":{"a":null}}`, true},
	{`{"urn:zitadel:iam:org:project:289:roles":{"a":{"o":null}}}`, true},
	{`{"urn:zitadel:iam:org:project:289:roles":{"a":{"o":1}}}`, true},
	{`{"urn:zitadel:iam:org:project:289:roles":["a"]}`, true},
	{`{"urn:zitadel:iam:org:project:289:roles":{"\u0061":{"é":"ü"}}}`, true},
	{`{"\u0073ub":"escaped name"}`, false},
	{`{"sub":"plain","su\u0062":"escaped name, last"}`, false},
	{`{"Sub":"case","SUB":"differs"}`, true},
	{`{"nämé":1}`, false},
	{`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`, false},
	{`null`, false},
	{`[]`, false},
	{`"x"`, false},
	{``, false},
	{`{"sub":"a",}`, false},
	{`{"sub":"a"} x`, false},
	{`{"exp":01}`, false},
	{`{"exp":1.}`, false},
	{`{"exp":.5}`, false},
	{`{"exp":+1}`, false},
	{`{"exp":1e}`, false},
	{"{\"sub\":\"a\tb\"}", false},
	{`{"sub":"\x"}`, false},
	{`{"sub":"\u12"}`, false},
	{`{"sub":tru}`, false},
	{`{"sub" "a"}`, false},
	{`{"sub":"a"`, false},
	{`{"a":[1,]}`, false},
	{`{"a":{"b":1,}}`, false},
	{`{"a":[1 2]}`, false},
	{`{'a':1}`, false},
}

// decodeClaims reads claims as encoding/json does: the fields, roles,
// audience, actor and every member, whatever the claims hold; and the
// scanner reads the plain ones itself rather than leaving every set to
// encoding/json.
func TestDecodeClaimsAsEncodingJSON(t *testing.T) {
	for _, c := range claimCorpus {
		for _, project := range []string{"289", ""} {
			sameAsReference(t, []byte(c.json), project)
		}
		_, _, _, ok := scanClaims([]byte(c.json), []byte("urn:zitadel:iam:org:project:289:roles"))
		require.Equal(t, c.plain, ok, "read by the scanner: %s", c.json)
	}
}

// Duplicated names: the last one counts, for the fields and in Claims, as
// in encoding/json's map and as RFC 7519 section 4 allows.
func TestDecodeClaimsLastDuplicateWins(t *testing.T) {
	r, _, err := decodeClaims([]byte(`{"sub":"a","aud":["289"],"sub":"b","aud":"other"}`), "289")
	require.NoError(t, err)
	require.Equal(t, "b", r.Subject)
	require.Equal(t, []string{"other"}, r.Audience())
	require.Equal(t, json.RawMessage(`"b"`), r.Claims()["sub"])
}

// FuzzDecodeClaims: decodeClaims reads any input as encoding/json does.
func FuzzDecodeClaims(f *testing.F) {
	for _, c := range claimCorpus {
		f.Add([]byte(c.json))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		sameAsReference(t, raw, "289")
	})
}

// FuzzReadHeader: readHeader reads any header as encoding/json reads it
// into a jwtHeader, or with algOnly into a struct of Alg alone.
func FuzzReadHeader(f *testing.F) {
	for _, h := range []string{`{"alg":"RS256","kid":"2813","typ":"JWT"}`, `{"alg":"RS256","kid":"k","crit":["exp"]}`,
		`{"alg":"RS256","crit":null}`, `{"ALG":"none","alg":"RS256"}`, `{"alg":"RS256","Kid":"x"}`, `{"alg":"RS256","kid":7}`,
		`{"alg":"RS\u0032\u0035\u0036"}`, `{"\u0061lg":"HS256"}`, `{"alg":null}`, `{"alg":"ES256","kid":"a","kid":"b"}`,
		`{"alg":"RS256","x":{"y":[1,2]}}`, `null`, `[]`, `{"alg":"RS256"`, `{"alg":"RS256"}x`, `{"crıt":1}`, "{\"\xe2\x84\xaaid\":\"k\"}"} {
		f.Add([]byte(h))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		encoded := base64.RawURLEncoding.EncodeToString(raw)
		var want jwtHeader
		wantOK := json.Unmarshal(raw, &want) == nil
		h, crit, ok := readHeader(encoded, false)
		require.Equal(t, wantOK, ok, "%s", raw)
		if ok {
			require.Equal(t, jwtHeader{Alg: want.Alg, Kid: want.Kid}, jwtHeader{Alg: h.Alg, Kid: h.Kid}, "%s", raw)
			require.Equal(t, want.Crit != nil, crit, "%s", raw)
		}
		var alg struct {
			Alg string `json:"alg"`
		}
		wantOK = json.Unmarshal(raw, &alg) == nil
		h, _, ok = readHeader(encoded, true)
		require.Equal(t, wantOK, ok, "alg only: %s", raw)
		require.Equal(t, alg.Alg, h.Alg, "alg only: %s", raw)
	})
}
