// Package serviceuser gets tokens for a ZITADEL service user (a machine user),
// so that a backend service can call ZITADEL's APIs, or APIs of its own that
// trust ZITADEL. Give it the key file ZITADEL hands out; get back a caching,
// self-refreshing oauth2.TokenSource and an *http.Client that sends the token
// with every request:
//
//	key, err := serviceuser.ReadKeyFile("key.json")
//	if err != nil {
//		return err // a *KeyFileError naming the field at fault; never the key
//	}
//	cfg := serviceuser.Config{Key: key, Issuer: "https://my-instance.zitadel.cloud"}
//	ts := cfg.TokenSource(ctx)
//	defer ts.Close()
//	client := ts.Client() // sends ts's token: one cache for both
//
// Beside this package, each concern has a package of its own:
//   - [github.com/go-serviceuser/serviceuser/scope]: ZITADEL's reserved
//     scopes, for a config's Scopes;
//   - [github.com/go-serviceuser/serviceuser/filewatch]: key files and
//     secrets read again when they change;
//   - [github.com/go-serviceuser/serviceuser/hooks]: callbacks for logs,
//     metrics and traces;
//   - [github.com/go-serviceuser/serviceuser/bearer]: the RoundTripper for a
//     token source of your own;
//   - [github.com/go-serviceuser/serviceuser/userinfo]: the userinfo
//     endpoint, and discovery;
//   - [github.com/go-serviceuser/serviceuser/introspection]: checking tokens
//     on an API's side;
//   - [github.com/go-serviceuser/serviceuser/serviceusertest]: a fake ZITADEL
//     for tests.
//
// # Ways to get a token
//
// Each config has the same four methods: TokenSource (a caching source, such
// as [Config.TokenSource]), Client (an *http.Client around a new source),
// Token (one request, no cache, for tools) and Validate (the first problem
// that would keep the config from working, found without a request).
//
//   - [Config]: a service user's key file, read by [ReadKeyFile],
//     [ParseKeyFile] or [KeyFileFromEnv], exchanged by the JWT bearer grant
//     of RFC 7523. The recommended mode.
//   - A key in a KMS or an HSM: [NewSignerKey] turns any crypto.Signer holding
//     an RSA key registered with the service user into a key for [Config];
//     the private key never enters the process.
//   - [ClientCredentialsConfig]: a machine user with a client secret.
//   - [PATConfig]: a personal access token. It is static, so a 401 from the
//     server becomes [ErrPATRejected] instead of a new token.
//
// The other side, an API checking the tokens its callers send, is package
// [github.com/go-serviceuser/serviceuser/introspection], with an API
// application's key (from a key file or [NewSignerKey]). ZITADEL answers
// {"active":false} both for a token whose audience lacks the API's project
// (callers must request scope.ProjectAudience with the project's id) and for
// a wrong or deleted API application key: the answer cannot tell the two
// apart, so check both when every token is inactive.
//
// # Lifetimes
//
// The ctx given to TokenSource, Client or Token only supplies values, as in
// golang.org/x/oauth2: an *http.Client under oauth2.HTTPClient. Cancelling it
// does not stop a source; [TokenSource.Close] does, and no goroutine of the
// source outlives it. A request's own context bounds only that caller's wait
// ([TokenSource.TokenContext]; a Client's request passes its context).
// [Config.Client] makes a new source, and so a new cache, on each call: use it
// for a client that lives as long as the program, and [TokenSource.Client] to
// share one source between the token and clients.
//
// # The cache
//
// A cached token is read without a lock or an allocation, and served until
// shortly before it expires. Ahead of that, one refresh runs in the background
// while callers keep getting the current token; a caller waits on the network
// only when no valid token exists, and then all waiting callers share one
// request. A failed refresh is retried with exponential backoff and jitter
// while the still-valid token keeps being served. A short-lived token's
// refresh starts at least 30 s (at most a third of its service time) before
// it is dropped. The backoff shrinks as that token's end nears: the next
// request never waits more than a quarter of the time the token has left
// (and never less than a second), even when the server's Retry-After asks
// for longer, and a request ends halfway to the token's end if Timeout has
// not ended it first, so that several requests fit before the token is
// dropped. Once it is dropped, a caller whose context has a deadline does
// not take a failed request's error while the next request is due within
// that deadline and 10 s: it waits for that request, shared with the other
// callers, as it would have waited for a first one. Callers without a
// deadline, and every caller after a Permanent error or of a source that
// never had a token, get the error at once.
//
// # Rotation
//
// Each config has one field for its credential, of an interface type:
// [Config.Key] is a [KeySource], [ClientCredentialsConfig.ClientSecret] and
// [PATConfig.PAT] are [SecretSource]s. A *KeyFile or a [Secret] is a
// credential that never changes. A credential mounted as a file can be
// replaced under a running source: package
// [github.com/go-serviceuser/serviceuser/filewatch] supplies key files and
// secrets that are read again when they change (a Kubernetes Secret update,
// a file renamed into place or rewritten). A file that is not a valid
// credential never replaces the one in use; the cached token is served
// throughout, and a new credential ends the backoff. A source of your own
// (a secret manager, a KMS) gets the same by implementing [RotatingSource],
// as the file watchers do.
//
// # Errors
//
// No error, fmt verb or slog record ever holds a private key, an assertion, a
// secret or a token. A token that could not be obtained is a [*TokenError]: it
// names the endpoint, ZITADEL's answer and, in Hint, what usually causes it,
// and unwraps to an *oauth2.RetrieveError when the server answered, so that
// code written for x/oauth2 keeps working. [TokenError.Permanent] reports
// whether only a change of configuration, key or server setup can help:
//
//	tok, err := ts.Token()
//	var te *serviceuser.TokenError
//	switch {
//	case err == nil:
//		// use tok
//	case errors.As(err, &te) && te.Permanent():
//		// a change is needed: report te, whose Hint says where to look
//	default:
//		// no answer, or an outage: the source retries with backoff
//	}
//
// A source that holds a valid token keeps serving it while its refreshes
// fail; [TokenSource.LastError] shows the failure early, for a health check
// or a metric. The other errors: [*ConfigError] (a config that cannot work,
// before any request), [*DiscoveryError], [*KeyFileError] (matching
// [ErrInvalidKeyFile]) and [*CredentialError] from loading a key or a token,
// [*SignerError] from a KMS signer, and the sentinels [ErrKeyExpired],
// [ErrPATExpired], [ErrPATRejected], [ErrInsecureURL] and [ErrClosed].
//
// # Sending tokens
//
// [TokenSource.Client] sends a token with each request, only over https or
// to a loopback host, and drops a token the server refuses with 401 (sending
// the request once more with a new one). Package
// [github.com/go-serviceuser/serviceuser/bearer] does the same for any
// oauth2.TokenSource, such as a decorator around a *TokenSource (for
// metrics, say), which keeps the context-bounded wait and the 401 handling
// only if it forwards TokenContext and Invalidate. The module
// github.com/go-serviceuser/serviceuser/grpcauth does the same for gRPC, on
// the client and the server side.
//
// # In a cluster
//
// A [Route] says how requests reach the issuer when not straight at its URL:
// its Address sends every request for the issuer's origin to an internal
// address (such as http://zitadel.zitadel.svc:8080) with the
// x-zitadel-instance-host header, while Issuer stays the public identity;
// InsecureAllowPlainHTTP allows plain http to ZITADEL on a host that is not
// loopback, and Header adds headers for proxies. Every config has a Route,
// as has introspection.Config; userinfo.Discover takes one, and [Route.Transport]
// puts one under requests of your own.
//
// # Observing a source
//
// Each config's Hooks field takes optional callbacks of package
// [github.com/go-serviceuser/serviceuser/hooks], in the style of
// net/http/httptrace, for discovery, each token request, tokens an API
// refused, reloaded credentials and introspections; no event carries a
// secret. Each gets the context of the work it tells of, with the waiting
// caller's values, and [SourceFromContext] names the source. hooks.Slog
// logs them, hooks.Join combines several, and the module
// github.com/go-serviceuser/serviceuser/serviceuserotel turns them into
// OpenTelemetry and Prometheus metrics. [TokenSource.Ready] answers a readiness check
// without a request. RefreshAhead and ExpiryMargin set when tokens are
// refreshed and stop being served.
//
// # Testing
//
// Package github.com/go-serviceuser/serviceuser/serviceusertest is a fake
// ZITADEL in the spirit of net/http/httptest: it hands out key files, secrets
// and personal access tokens, answers as a real ZITADEL does, counts requests
// and injects failures, so that code using this package can be tested without
// an account.
package serviceuser
