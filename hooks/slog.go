package hooks

import (
	"context"
	"log/slog"
	"net/http"
)

// Slog returns hooks that log to logger: failures and refused credentials
// at Warn, a reloaded credential at Info, everything else at Debug. Each
// record is logged with the context the event came with (see [Hooks]), so
// that a handler can add what it carries, such as a trace id. Logged errors
// are the library's errors, which hold no secret. A nil logger means
// slog.Default(), the one in place when each event is logged.
func Slog(logger *slog.Logger) *Hooks {
	log := func(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
		l := logger
		if l == nil {
			l = slog.Default()
		}
		l.LogAttrs(ctx, level, msg, attrs...)
	}
	return &Hooks{
		DiscoveryDone: func(ctx context.Context, i DiscoveryDoneInfo) {
			attrs := []slog.Attr{slog.String("issuer", i.Issuer), slog.Duration("duration", i.Duration)}
			if i.Err != nil {
				log(ctx, slog.LevelWarn, "serviceuser: discovery failed", append(attrs, slog.Any("error", i.Err))...)
				return
			}
			log(ctx, slog.LevelDebug, "serviceuser: discovery done", attrs...)
		},
		RefreshStart: func(ctx context.Context, i RefreshStartInfo) {
			log(ctx, slog.LevelDebug, "serviceuser: token request", slog.Bool("waited", i.Waited), slog.Int("attempt", i.Attempt))
		},
		RefreshDone: func(ctx context.Context, i RefreshDoneInfo) {
			attrs := []slog.Attr{slog.Bool("waited", i.Waited), slog.Int("attempt", i.Attempt), slog.Duration("duration", i.Duration)}
			if i.Err != nil {
				log(ctx, slog.LevelWarn, "serviceuser: token request failed",
					append(attrs, slog.Any("error", i.Err), slog.Time("next_attempt", i.NextAttempt))...)
				return
			}
			log(ctx, slog.LevelDebug, "serviceuser: token refreshed", append(attrs, slog.Time("expiry", i.Expiry))...)
		},
		TokenRejected: func(ctx context.Context, i TokenRejectedInfo) {
			log(ctx, slog.LevelWarn, "serviceuser: token rejected by an API",
				slog.Int("status", http.StatusUnauthorized), slog.Bool("invalidate_called", i.InvalidateCalled), slog.Bool("retried", i.Retried))
		},
		CredentialReloaded: func(ctx context.Context, i CredentialReloadedInfo) {
			if i.Err != nil {
				log(ctx, slog.LevelWarn, "serviceuser: new credential refused; the old one stays", slog.String("path", i.Path), slog.Any("error", i.Err))
				return
			}
			log(ctx, slog.LevelInfo, "serviceuser: credential reloaded", slog.String("path", i.Path), slog.String("key_id", i.KeyID))
		},
		IntrospectionDone: func(ctx context.Context, i IntrospectionDoneInfo) {
			attrs := []slog.Attr{slog.Bool("cache_hit", i.CacheHit), slog.Duration("duration", i.Duration)}
			if i.Err != nil {
				log(ctx, slog.LevelWarn, "serviceuser: introspection failed", append(attrs, slog.Any("error", i.Err))...)
				return
			}
			if !i.Active {
				log(ctx, slog.LevelDebug, "serviceuser: token inactive, or the API application's key refused (ZITADEL answers both alike)", attrs...)
				return
			}
			log(ctx, slog.LevelDebug, "serviceuser: introspection done", append(attrs, slog.Bool("active", true))...)
		},
	}
}
