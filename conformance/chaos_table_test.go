package conformance

// The chaos soak's table: one row per cell (token lifetime × credential),
// gathered over its runs, written to standard output and, with
// -chaosreadme, into README.md between its markers.

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
)

// The markers around the table in README.md.
const (
	chaosTableStart = "<!-- chaos table: written by the chaos soak, do not edit -->"
	chaosTableEnd   = "<!-- end of chaos table -->"
)

// chaosSummary gathers the runs of one cell.
type chaosSummary struct {
	cell     chaosCell
	runs     int
	calls    int
	outside  int       // caller errors outside outages, all runs
	maxRate  float64   // the highest share of such errors in one run
	requests []int     // token requests per run (one hour each)
	recovery []float64 // seconds from the outage's end to the first token
	missed   int       // runs that missed a goal
}

func (s *chaosSummary) add(r chaosRun) {
	s.runs++
	s.calls += r.calls
	s.outside += r.outsideErrors()
	s.maxRate = max(s.maxRate, r.errorRate())
	s.requests = append(s.requests, r.requests)
	if r.recovered {
		s.recovery = append(s.recovery, r.firstToken.Seconds())
	}
	if len(r.missed()) > 0 {
		s.missed++
	}
}

// spread is "median (min–max)" of xs.
func spread[T int | float64](xs []T, format string) string {
	if len(xs) == 0 {
		return "none"
	}
	s := slices.Sorted(slices.Values(xs))
	f := func(x T) string { return fmt.Sprintf(format, x) }
	return fmt.Sprintf("%s (%s–%s)", f(s[len(s)/2]), f(s[0]), f(s[len(s)-1]))
}

func (s *chaosSummary) row() []string {
	recovery := spread(s.recovery, "%.1f s")
	if lost := s.runs - len(s.recovery); lost > 0 {
		recovery += fmt.Sprintf(", %d runs without", lost)
	}
	return []string{
		s.cell.String(), fmt.Sprint(s.runs), fmt.Sprint(s.calls),
		fmt.Sprint(s.outside), fmt.Sprintf("%.3f %%", 100*s.maxRate),
		spread(s.requests, "%d") + fmt.Sprintf(" (bound %d)", chaosRequestBound(s.cell.lifetime)),
		recovery, fmt.Sprintf("%d of %d", s.missed, s.runs),
	}
}

// chaosTable returns the table of the summaries, with the command that made
// it and the Go version it ran on.
func chaosTable(sums []*chaosSummary, command string) string {
	t := newSimTable("tokens, credential", "runs", "calls", "caller errors outside the outage",
		"worst run's error rate (goal ≤ 0.1 %)", "token requests per hour: median (min–max)",
		"first token after the outage: median (min–max), goal ≤ 10 s", "runs missing a goal")
	for _, s := range sums {
		t.row(s.row()...)
	}
	return fmt.Sprintf("`%s` (%s):\n%s", command, runtime.Version(), t)
}

// writeChaosTable replaces what lies between the markers in the file at
// path with table.
func writeChaosTable(path, table string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	i := bytes.Index(old, []byte(chaosTableStart))
	j := bytes.Index(old, []byte(chaosTableEnd))
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %q … %q", path, chaosTableStart, chaosTableEnd)
	}
	var b bytes.Buffer
	b.Write(old[:i+len(chaosTableStart)])
	b.WriteString("\n" + strings.TrimSpace(table) + "\n")
	b.Write(old[j:])
	return os.WriteFile(path, b.Bytes(), 0o644)
}
