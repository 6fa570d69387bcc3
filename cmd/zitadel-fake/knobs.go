package main

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

// defaultTokenLifetime is the fake's, ZITADEL's.
const defaultTokenLifetime = serviceusertest.DefaultTokenLifetime

// settings are the knobs of the fake that stay set until changed.
type settings struct {
	Latency         time.Duration
	ProjectionDelay time.Duration
	TokenLifetime   time.Duration
	ClockOffset     time.Duration
	LegacyErrors    bool
}

// MarshalJSON shows the settings as GET /admin/stats does, durations as
// the admin endpoint takes them ("200ms").
func (s settings) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Latency         string `json:"latency"`
		ProjectionDelay string `json:"projection_delay"`
		TokenLifetime   string `json:"token_lifetime"`
		ClockOffset     string `json:"clock_offset"`
		LegacyErrors    bool   `json:"legacy_errors"`
	}{s.Latency.String(), s.ProjectionDelay.String(), s.TokenLifetime.String(), s.ClockOffset.String(), s.LegacyErrors})
}

// check refuses settings the fake cannot serve. A negative token lifetime
// and clock offset are allowed: they show how clients cope with broken
// servers and skewed clocks.
func (s settings) check() error {
	switch {
	case s.Latency < 0:
		return fmt.Errorf("latency %s is negative", s.Latency)
	case s.ProjectionDelay < 0:
		return fmt.Errorf("projection delay %s is negative", s.ProjectionDelay)
	}
	return nil
}

// knobs turns the fake's knobs, from the flags and the admin endpoint, and
// remembers their settings, which the server does not report.
type knobs struct {
	srv *serviceusertest.Server

	mu  sync.Mutex
	set settings
}

// newKnobs applies s to srv.
func newKnobs(srv *serviceusertest.Server, s settings) *knobs {
	k := &knobs{srv: srv}
	k.update(func(cur *settings) { *cur = s })
	return k
}

// update changes the settings with change and applies them all to the
// server, under one lock so that concurrent changes apply in order.
func (k *knobs) update(change func(*settings)) settings {
	k.mu.Lock()
	defer k.mu.Unlock()
	change(&k.set)
	k.srv.SetLatency(k.set.Latency)
	k.srv.SetProjectionDelay(k.set.ProjectionDelay)
	k.srv.SetTokenLifetime(k.set.TokenLifetime)
	k.srv.SetClockOffset(k.set.ClockOffset)
	k.srv.SetLegacyErrors(k.set.LegacyErrors)
	return k.set
}

// settings returns the current settings.
func (k *knobs) settings() settings {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.set
}

// Endpoints a fault can be queued for.
const (
	endpointToken         = "token"
	endpointIntrospection = "introspection"
)

// fail makes the next n requests to endpoint get status; n = 0 drops the
// faults queued there. Status 500 gets ZITADEL's own Errors.Internal body,
// other statuses the same body with their status.
func (k *knobs) fail(endpoint string, n, status int) error {
	if n < 0 {
		return fmt.Errorf("n %d is negative", n)
	}
	if err := checkStatus(status); err != nil {
		return err
	}
	f := serviceusertest.Fault{Status: status}
	switch endpoint {
	case endpointToken:
		k.srv.FailNext(n, f)
	case endpointIntrospection:
		k.srv.FailNextIntrospection(n, f)
	default:
		return fmt.Errorf("endpoint %q is neither %q nor %q", endpoint, endpointToken, endpointIntrospection)
	}
	return nil
}

// stats is the answer of GET /admin/stats.
type stats struct {
	TokenRequests         int      `json:"token_requests"`
	IssuedTokens          int      `json:"issued_tokens"`
	IntrospectionRequests int      `json:"introspection_requests"`
	Rejections            []string `json:"rejections"`
	Settings              settings `json:"settings"`
}

// stats reports what the server saw.
func (k *knobs) stats() stats {
	st := stats{
		TokenRequests:         k.srv.TokenRequests(),
		IssuedTokens:          k.srv.IssuedTokens(),
		IntrospectionRequests: k.srv.IntrospectionRequests(),
		Rejections:            []string{},
		Settings:              k.settings(),
	}
	for _, err := range k.srv.Rejections() {
		st.Rejections = append(st.Rejections, err.Error())
	}
	return st
}
