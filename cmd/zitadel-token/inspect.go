package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-serviceuser/serviceuser"
)

// inspectOptions are the flags of inspect.
type inspectOptions struct {
	keyFlags
	json bool
}

func (o *inspectOptions) define(fs *flagSet) {
	o.keyFlags.define(fs)
	fs.boolVar(&o.json, "json")
}

// run prints what the key file holds, never the key itself. An expired key
// is still described, then reported as an error.
func (o *inspectOptions) run(_ context.Context, _ *invocation, stdout io.Writer) error {
	if err := o.check(); err != nil {
		return err
	}
	key, err := o.load()
	if err != nil {
		return err
	}
	if err := printSummary(stdout, summarize(key), o.json); err != nil {
		return err
	}
	if err := key.CheckExpiry(time.Now()); err != nil {
		return withCode(exitKey, err)
	}
	return nil
}

// keySummary is what inspect shows of a key file.
type keySummary struct {
	Type       string `json:"type"`
	KeyID      string `json:"keyId"`
	UserID     string `json:"userId,omitempty"`
	AppID      string `json:"appId,omitempty"`
	ClientID   string `json:"clientId,omitempty"`
	KeyKind    string `json:"keyKind"`
	Expiration string `json:"expirationDate"`
	Expired    bool   `json:"expired"`
}

func summarize(key *serviceuser.KeyFile) keySummary {
	s := keySummary{Type: key.Type, KeyID: key.KeyID, UserID: key.UserID, AppID: key.AppID,
		ClientID: key.ClientID, KeyKind: key.KeyDescription(), Expiration: "never",
		Expired: key.CheckExpiry(time.Now()) != nil}
	if !key.ExpirationDate.IsZero() {
		s.Expiration = key.ExpirationDate.UTC().Format(time.RFC3339)
	}
	return s
}

func printSummary(w io.Writer, s keySummary, asJSON bool) error {
	if asJSON {
		return writeJSON(w, s)
	}
	var b strings.Builder
	line := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%-16s%s\n", name+":", printableLine(value))
		}
	}
	line("type", s.Type)
	line("keyId", s.KeyID)
	line("userId", s.UserID)
	line("appId", s.AppID)
	line("clientId", s.ClientID)
	line("keyKind", s.KeyKind)
	line("expirationDate", s.Expiration)
	line("expired", map[bool]string{false: "no", true: "yes"}[s.Expired])
	_, err := io.WriteString(w, b.String())
	return err
}
