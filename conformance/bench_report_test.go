package conformance

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// benchTable gathers one benchmark's results, one row per peer and -cpu
// value, and prints them as a markdown table when go test runs with -v.
type benchTable struct {
	mu     sync.Mutex
	title  string
	header []string
	peers  []string                 // in first-seen order
	rows   map[benchRowKey][]string // cells
	bases  map[int]float64          // per GOMAXPROCS: the value ratios compare with
}

type benchRowKey struct {
	peer string
	cpu  int
}

func newBenchTable(title string, header ...string) *benchTable {
	return &benchTable{title: title, header: header, rows: map[benchRowKey][]string{}, bases: map[int]float64{}}
}

// setBase records serviceuser's value at the current GOMAXPROCS, which
// ratio compares the other peers with.
func (t *benchTable) setBase(v float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bases[runtime.GOMAXPROCS(0)] = v
}

// ratio prints v relative to the base at the current GOMAXPROCS.
func (t *benchTable) ratio(v float64) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return benchFmtRatio(v, t.bases[runtime.GOMAXPROCS(0)])
}

// set stores (or replaces, on -count > 1) the row for peer at the current
// GOMAXPROCS; the -cpu column comes first after the peer's name.
func (t *benchTable) set(peer string, cells ...string) {
	cpu := runtime.GOMAXPROCS(0)
	t.mu.Lock()
	defer t.mu.Unlock()
	if !slices.Contains(t.peers, peer) {
		t.peers = append(t.peers, peer)
	}
	t.rows[benchRowKey{peer, cpu}] = append([]string{peer, strconv.Itoa(cpu)}, cells...)
}

// printAtEnd prints t, with -v, once b and its sub-benchmarks (which loop
// over the -cpu values themselves) are done.
func (t *benchTable) printAtEnd(b *testing.B) {
	if testing.Verbose() {
		b.Cleanup(func() { t.print(os.Stdout) })
	}
}

// print writes t as a markdown table, by peer, then by -cpu.
func (t *benchTable) print(w io.Writer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := slices.Collect(maps.Keys(t.rows))
	slices.SortFunc(keys, func(a, b benchRowKey) int {
		if c := cmp.Compare(slices.Index(t.peers, a.peer), slices.Index(t.peers, b.peer)); c != 0 {
			return c
		}
		return cmp.Compare(a.cpu, b.cpu)
	})
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%s\n\n", t.title)
	fmt.Fprintf(&sb, "| %s |\n", strings.Join(t.header, " | "))
	fmt.Fprintf(&sb, "|%s\n", strings.Repeat(" --- |", len(t.header)))
	for _, k := range keys {
		fmt.Fprintf(&sb, "| %s |\n", strings.Join(t.rows[k], " | "))
	}
	_, _ = io.WriteString(w, sb.String())
}

// benchFmtDuration prints d rounded for a table: 12.3ms, 201ms, 4.1µs.
func benchFmtDuration(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d >= time.Microsecond:
		return d.Round(100 * time.Nanosecond).String()
	}
	return d.String()
}

// benchFmtRatio prints x/base as "×N", or "-" when base is zero.
func benchFmtRatio(x, base float64) string {
	if base == 0 {
		return "-"
	}
	r := x / base
	if r >= 10 {
		return fmt.Sprintf("×%.0f", r)
	}
	return fmt.Sprintf("×%.2f", r)
}
