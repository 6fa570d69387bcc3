package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// adminPrefix starts every admin path.
const adminPrefix = "/admin/"

// adminHandler serves the admin endpoint: POST turns a knob and answers
// the stats, GET /admin/stats reports them. It runs on a listener of its
// own, so that nothing is added to the paths of the fake ZITADEL.
func adminHandler(k *knobs) http.Handler {
	mux := http.NewServeMux()
	durationKnob := func(name string, set func(*settings, time.Duration)) {
		mux.HandleFunc("POST "+adminPrefix+name, func(w http.ResponseWriter, r *http.Request) {
			d, err := parseDuration("d", r.URL.Query().Get("d"))
			if err == nil {
				s := k.settings()
				set(&s, d)
				err = s.check()
			}
			if err != nil {
				adminError(w, err)
				return
			}
			k.update(func(s *settings) { set(s, d) })
			writeStats(w, k)
		})
	}
	durationKnob("latency", func(s *settings, d time.Duration) { s.Latency = d })
	durationKnob("projection-delay", func(s *settings, d time.Duration) { s.ProjectionDelay = d })
	durationKnob("token-lifetime", func(s *settings, d time.Duration) { s.TokenLifetime = d })
	durationKnob("clock-offset", func(s *settings, d time.Duration) { s.ClockOffset = d })
	mux.HandleFunc("POST "+adminPrefix+"legacy-errors", func(w http.ResponseWriter, r *http.Request) {
		on, err := strconv.ParseBool(r.URL.Query().Get("on"))
		if err != nil {
			adminError(w, fmt.Errorf("on %q is neither true nor false", r.URL.Query().Get("on")))
			return
		}
		k.update(func(s *settings) { s.LegacyErrors = on })
		writeStats(w, k)
	})
	mux.HandleFunc("POST "+adminPrefix+"fail", func(w http.ResponseWriter, r *http.Request) {
		if err := failFromQuery(k, r.URL.Query()); err != nil {
			adminError(w, err)
			return
		}
		writeStats(w, k)
	})
	mux.HandleFunc("GET "+adminPrefix+"stats", func(w http.ResponseWriter, _ *http.Request) {
		writeStats(w, k)
	})
	return mux
}

// failFromQuery queues the faults POST /admin/fail asks for:
// n (default 1), status (default 500), endpoint (default token).
func failFromQuery(k *knobs, q url.Values) error {
	n, status, endpoint := 1, defaultFailStatus, endpointToken
	var err error
	if v := q.Get("n"); v != "" {
		if n, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("n %q is not a number", v)
		}
	}
	if v := q.Get("status"); v != "" {
		if status, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("status %q is not a number", v)
		}
	}
	if v := q.Get("endpoint"); v != "" {
		endpoint = v
	}
	return k.fail(endpoint, n, status)
}

// writeStats answers the stats as JSON.
func writeStats(w http.ResponseWriter, k *knobs) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(k.stats())
}

// adminError answers 400 with err as JSON.
func adminError(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

// startAdmin serves the admin endpoint on addr, unless addr is empty. It
// returns the endpoint's base URL ("" for none) and the function that
// stops it and waits for it.
func startAdmin(addr string, k *knobs) (string, func(), error) {
	if addr == "" {
		return "", func() {}, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("admin endpoint: %w", err)
	}
	hs := &http.Server{Handler: adminHandler(k), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = hs.Serve(l) // returns http.ErrServerClosed after Close
	}()
	stop := func() {
		_ = hs.Close()
		<-done
	}
	return "http://" + reachableHost(addr, l.Addr()), stop, nil
}
