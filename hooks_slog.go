package serviceuser

import (
	"context"
	"log/slog"
)

// SlogHooks returns hooks that log to logger: failures and refused
// credentials at Warn, a reloaded credential at Info, everything else at
// Debug. Logged errors are this package's errors, which hold no secret. A
// nil logger means slog.Default(), the one in place when each event is
// logged.
func SlogHooks(logger *slog.Logger) *Hooks {
	log := func(level slog.Level, msg string, attrs ...slog.Attr) {
		l := logger
		if l == nil {
			l = slog.Default()
		}
		l.LogAttrs(context.Background(), level, msg, attrs...)
	}
	return &Hooks{
		DiscoveryDone: func(i DiscoveryDoneInfo) {
			attrs := []slog.Attr{slog.String("issuer", i.Issuer), slog.Duration("duration", i.Duration)}
			if i.Err != nil {
				log(slog.LevelWarn, "serviceuser: discovery failed", append(attrs, slog.Any("error", i.Err))...)
				return
			}
			log(slog.LevelDebug, "serviceuser: discovery done", attrs...)
		},
		RefreshStart: func(i RefreshStartInfo) {
			log(slog.LevelDebug, "serviceuser: token request", slog.Bool("waited", i.Waited), slog.Int("attempt", i.Attempt))
		},
		RefreshDone: func(i RefreshDoneInfo) {
			attrs := []slog.Attr{slog.Bool("waited", i.Waited), slog.Int("attempt", i.Attempt), slog.Duration("duration", i.Duration)}
			if i.Err != nil {
				log(slog.LevelWarn, "serviceuser: token request failed",
					append(attrs, slog.Any("error", i.Err), slog.Time("next_attempt", i.NextAttempt))...)
				return
			}
			log(slog.LevelDebug, "serviceuser: token refreshed", append(attrs, slog.Time("expiry", i.Expiry))...)
		},
		TokenRejected: func(i TokenRejectedInfo) {
			log(slog.LevelWarn, "serviceuser: token rejected by an API",
				slog.Int("status", i.StatusCode), slog.Bool("dropped", i.Dropped), slog.Bool("retried", i.Retried))
		},
		CredentialReloaded: func(i CredentialReloadedInfo) {
			if i.Err != nil {
				log(slog.LevelWarn, "serviceuser: new credential refused; the old one stays", slog.String("path", i.Path), slog.Any("error", i.Err))
				return
			}
			log(slog.LevelInfo, "serviceuser: credential reloaded", slog.String("path", i.Path), slog.String("key_id", i.KeyID))
		},
		IntrospectionDone: func(i IntrospectionDoneInfo) {
			attrs := []slog.Attr{slog.Bool("cache_hit", i.CacheHit), slog.Duration("duration", i.Duration)}
			if i.Err != nil {
				log(slog.LevelWarn, "serviceuser: introspection failed", append(attrs, slog.Any("error", i.Err))...)
				return
			}
			if !i.Active {
				log(slog.LevelDebug, "serviceuser: token inactive, or the API application's key refused (ZITADEL answers both alike)", attrs...)
				return
			}
			log(slog.LevelDebug, "serviceuser: introspection done", append(attrs, slog.Bool("active", true))...)
		},
	}
}
