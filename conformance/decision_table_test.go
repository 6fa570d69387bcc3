package conformance

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-serviceuser/serviceuser"
	"github.com/stretchr/testify/require"
)

// decisionRow is one variant of the token request.
type decisionRow struct {
	name   string
	phase  time.Duration // where in its second the servers' clock is
	accept bool          // ZITADEL's decision
	req    func(e *rowEnv) url.Values
}

var decisionTable = []decisionRow{
	// Audience.
	{"RS256, aud string", 0, true, func(e *rowEnv) url.Values { return e.good(e.claims()) }},
	{"aud array [issuer]", 0, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("aud", []string{e.issuer})) }},
	{"aud array [other, issuer]", 0, true, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("aud", []string{"https://other.example", e.issuer}))
	}},
	{"aud array without issuer", 0, false, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("aud", []string{"https://other.example", e.issuer + "/oauth/v2/token"}))
	}},
	{"aud issuer + trailing slash", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("aud", e.issuer+"/")) }},
	{"aud token endpoint", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("aud", e.issuer+"/oauth/v2/token")) }},
	{"aud a number", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("aud", 42)) }},
	{"aud missing", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().without("aud")) }},

	// Who signs: kid, iss, sub.
	{"kid unknown", 0, false, func(e *rowEnv) url.Values { return bearerForm(e.sign(jose.RS256, e.rsaKey, "123456789", e.claims())) }},
	{"kid missing", 0, false, func(e *rowEnv) url.Values { return bearerForm(e.sign(jose.RS256, e.rsaKey, "", e.claims())) }},
	{"kid of another user", 0, false, func(e *rowEnv) url.Values {
		return bearerForm(e.sign(jose.RS256, e.otherKey, e.otherKeyID, e.claims()))
	}},
	{"unknown user (iss=sub)", 0, false, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("iss", "100000000000000001", "sub", "100000000000000001"))
	}},
	{"other user's iss=sub, own kid", 0, false, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("iss", e.otherUserID, "sub", e.otherUserID))
	}},
	{"iss != sub", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("sub", e.otherUserID)) }},
	{"sub missing", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().without("sub")) }},

	// exp, with the server clock at a whole second S.
	{"exp missing", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().without("exp")) }},
	{"exp 10 s past", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(-10))) }},
	{"exp = now", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(0))) }},
	{"exp = now+1s", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(1))) }},
	{"exp = now+2s", 0, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(2))) }},
	{"exp 2 h after iat", 0, true, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("iat", e.at(-10), "exp", e.at(-10+7200)))
	}},
	{"exp float now+1.9s (truncated)", 0, false, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("exp", float64(e.at(1))+0.9))
	}},

	// iat.
	{"iat missing", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().without("iat")) }},
	{"iat = now+1s", 0, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(1))) }},
	{"iat = now+2s", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(2))) }},
	{"iat float now+1.9s (truncated)", 0, true, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("iat", float64(e.at(1))+0.9))
	}},
	{"iat 59 min old", 0, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-59*60))) }},
	{"iat 60 min old", 0, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-3600))) }},
	{"iat 60 min 1 s old", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-3601))) }},
	{"iat 61 min old", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-61*60))) }},

	// Other claim encodings.
	{"times as floats", 0, true, func(e *rowEnv) url.Values {
		return e.good(e.claims().with("iat", float64(e.at(-10))+0.75, "exp", float64(e.at(600))+0.5))
	}},
	{"times as RFC 3339 strings", 0, true, func(e *rowEnv) url.Values {
		rfc := func(u int64) string { return time.Unix(u, 0).UTC().Format(time.RFC3339) }
		return e.good(e.claims().with("iat", rfc(e.at(-10)), "exp", rfc(e.at(600))))
	}},
	{"time as a bool", 0, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", true)) }},
	{"nbf in the future (ignored)", 0, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("nbf", e.at(300))) }},
	{"payload a JSON array", 0, false, func(e *rowEnv) url.Values {
		return bearerForm(e.sign(jose.RS256, e.rsaKey, e.keyID, []byte(`["not","an","object"]`)))
	}},

	// Signature.
	{"PS256", 0, true, func(e *rowEnv) url.Values { return bearerForm(e.sign(jose.PS256, e.rsaKey, e.keyID, e.claims())) }},
	{"ES256 (P-256 key)", 0, true, func(e *rowEnv) url.Values { return bearerForm(e.sign(jose.ES256, e.ecKey, e.ecKeyID, e.claims())) }},
	{"RS384", 0, false, func(e *rowEnv) url.Values { return bearerForm(e.sign(jose.RS384, e.rsaKey, e.keyID, e.claims())) }},
	{"RS512", 0, false, func(e *rowEnv) url.Values { return bearerForm(e.sign(jose.RS512, e.rsaKey, e.keyID, e.claims())) }},
	{"HS256", 0, false, func(e *rowEnv) url.Values {
		return bearerForm(e.sign(jose.HS256, []byte("0123456789abcdef0123456789abcdef"), e.keyID, e.claims()))
	}},
	{"alg none", 0, false, func(e *rowEnv) url.Values {
		header, _ := json.Marshal(map[string]string{"alg": "none", "kid": e.keyID, "typ": "JWT"})
		payload, _ := json.Marshal(e.claims())
		return bearerForm(b64url(header) + "." + b64url(payload) + ".")
	}},
	{"signed with another private key", 0, false, func(e *rowEnv) url.Values {
		return bearerForm(e.sign(jose.RS256, e.otherKey, e.keyID, e.claims()))
	}},
	{"RS256 under the EC key's kid", 0, false, func(e *rowEnv) url.Values {
		return bearerForm(e.sign(jose.RS256, e.rsaKey, e.ecKeyID, e.claims()))
	}},
	{"payload changed after signing", 0, false, func(e *rowEnv) url.Values {
		parts := strings.Split(e.rs256(e.claims()), ".")
		payload, _ := json.Marshal(e.claims().with("exp", e.at(601)))
		return bearerForm(parts[0] + "." + b64url(payload) + "." + parts[2])
	}},
	{"signature removed", 0, false, func(e *rowEnv) url.Values {
		parts := strings.Split(e.rs256(e.claims()), ".")
		return bearerForm(parts[0] + "." + parts[1] + ".")
	}},
	{"two segments", 0, false, func(e *rowEnv) url.Values {
		parts := strings.Split(e.rs256(e.claims()), ".")
		return bearerForm(parts[0] + "." + parts[1])
	}},

	// The request around the assertion.
	{"grant_type client-assertion URN", 0, false, func(e *rowEnv) url.Values {
		f := e.good(e.claims())
		f.Set("grant_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		return f
	}},
	{"grant_type missing", 0, false, func(e *rowEnv) url.Values {
		f := e.good(e.claims())
		f.Del("grant_type")
		return f
	}},
	{"scope missing", 0, false, func(e *rowEnv) url.Values {
		f := e.good(e.claims())
		f.Del("scope")
		return f
	}},
	{"assertion missing", 0, false, func(e *rowEnv) url.Values {
		f := e.good(e.claims())
		f.Del("assertion")
		return f
	}},

	// What the library signs, and a drifting client's version of it.
	{"library SignAssertion", 0, true, func(e *rowEnv) url.Values {
		a, err := serviceuser.SignAssertion(e.keyFile, e.issuer, 0)
		require.NoError(e.t, err)
		return bearerForm(a)
	}},
	{"library shape, client in sync", 0, true, func(e *rowEnv) url.Values { return e.good(e.libraryShaped(0)) }},
	{"library shape, client 30 s ahead", 0, true, func(e *rowEnv) url.Values { return e.good(e.libraryShaped(30)) }},
	{"library shape, client 30 s behind", 0, true, func(e *rowEnv) url.Values { return e.good(e.libraryShaped(-30)) }},
	{"library shape, client 61 s ahead", 0, true, func(e *rowEnv) url.Values { return e.good(e.libraryShaped(61)) }},
	{"library shape, client 62 s ahead", 0, false, func(e *rowEnv) url.Values { return e.good(e.libraryShaped(62)) }},
	{"library shape, client 58 min behind", 0, true, func(e *rowEnv) url.Values { return e.good(e.libraryShaped(-58 * 60)) }},
	{"library shape, client 59 min behind", 0, false, func(e *rowEnv) url.Values { return e.good(e.libraryShaped(-59 * 60)) }},

	// Server clock 0.25 s into its second: now+1s rounds down.
	{"@.25 iat S+1 (0.75 s ahead)", 250 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(1))) }},
	{"@.25 iat S+2 (1.75 s ahead)", 250 * time.Millisecond, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(2))) }},
	{"@.25 exp S+1 (0.75 s ahead)", 250 * time.Millisecond, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(1))) }},
	{"@.25 exp S+2 (1.75 s ahead)", 250 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(2))) }},
	{"@.25 iat S-3600 (3600.25 s old)", 250 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-3600))) }},

	// 0.5 s into its second: the rounding goes up, the tolerance is 1.5 s.
	{"@.5 iat S+1 (0.5 s ahead)", 500 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(1))) }},
	{"@.5 iat S+2 (1.5 s ahead)", 500 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(2))) }},
	{"@.5 iat S+3 (2.5 s ahead)", 500 * time.Millisecond, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(3))) }},
	{"@.5 iat S-3599 (3599.5 s old)", 500 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-3599))) }},
	{"@.5 iat S-3600 (3600.5 s old)", 500 * time.Millisecond, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-3600))) }},
	{"@.5 exp S+1 (0.5 s ahead)", 500 * time.Millisecond, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(1))) }},
	{"@.5 exp S+2 (1.5 s ahead)", 500 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(2))) }},

	// 0.75 s into its second.
	{"@.75 iat S+2 (1.25 s ahead)", 750 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(2))) }},
	{"@.75 iat S+3 (2.25 s ahead)", 750 * time.Millisecond, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(3))) }},
	{"@.75 exp S+2 (1.25 s ahead)", 750 * time.Millisecond, true, func(e *rowEnv) url.Values { return e.good(e.claims().with("exp", e.at(2))) }},
	{"@.75 iat S-3600 (3600.75 s old)", 750 * time.Millisecond, false, func(e *rowEnv) url.Values { return e.good(e.claims().with("iat", e.at(-3600))) }},
}
