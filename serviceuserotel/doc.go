// Package serviceuserotel records what serviceuser token sources and
// introspectors do as OpenTelemetry metrics and spans, through the library's
// Hooks:
//
//	rec, err := serviceuserotel.New() // the global MeterProvider and TracerProvider
//	if err != nil { ... }
//	defer rec.Close()
//	ts := serviceuser.Config{Key: key, Issuer: issuer, Hooks: rec.Hooks()}.TokenSource(ctx)
//
// One Recorder serves any number of token sources and introspectors.
//
// Metrics (instrumentation scope ScopeName, with this module's version):
//
//	serviceuser.token.refreshes            counter   {refresh}  serviceuser.outcome, serviceuser.refresh.mode; when failed
//	                                                            also error.type, serviceuser.endpoint,
//	                                                            http.response.status_code, serviceuser.error.code
//	serviceuser.token.refresh.duration     histogram s          serviceuser.outcome, serviceuser.refresh.mode, error.type
//	serviceuser.token.remaining_lifetime   gauge     s          (the last token's expiry minus now, from its first token on)
//	serviceuser.token.rejections           counter   {rejection} http.response.status_code, serviceuser.rejection.invalidate_called,
//	                                                            serviceuser.rejection.retried
//	serviceuser.credential.reloads         counter   {reload}   serviceuser.outcome (ok, refused), error.type
//	serviceuser.discovery.fetches          counter   {fetch}    serviceuser.outcome, error.type
//	serviceuser.discovery.duration         histogram s          serviceuser.outcome
//	serviceuser.introspections             counter   {introspection} serviceuser.outcome, serviceuser.cache_hit,
//	                                                            serviceuser.introspection.active, error.type
//	serviceuser.introspection.duration     histogram s          serviceuser.outcome, serviceuser.cache_hit
//
// The cache hit ratio is serviceuser.introspections with
// serviceuser.cache_hit=true over all of them.
//
// The failed token requests are serviceuser.token.refreshes with
// serviceuser.outcome=error: one failure is one count, in one series.
//
// Each token request is a span named "serviceuser.token.refresh", from
// RefreshStart to RefreshDone, with status Error when it failed. A request
// that callers wait for is a child of the span in the context of the caller
// that started it (see hooks.Hooks), so that it shows in that
// caller's trace; a refresh ahead of expiry, which keeps no caller waiting,
// is a root span, linked to the span of the context the source was made
// with, if any. Metrics are recorded with the same context, for exemplars.
//
// No attribute holds an error's text, which may carry what a server or a
// signer wrote: errors are told by their Go type (error.type) and, for a
// *serviceuser.TokenError, by its Endpoint, StatusCode and a standard OAuth
// error Code (any other code is "other").
package serviceuserotel
