package conformance

// The chaos soak over many seeds. CI runs -chaosseeds (2) seeds per cell;
// the full run, which also writes the table into README.md:
//
//	go test -run '^TestChaosSoak$' -timeout 60m . -args -chaosseeds 25 -chaosreadme ../README.md
//
// A failing run names its seed; rerun it alone with -chaosseed N -chaosseeds 1.

import (
	"flag"
	"fmt"
	"testing"
	"testing/synctest"
)

var (
	chaosSeeds     = flag.Int("chaosseeds", 2, "seeds per cell of TestChaosSoak")
	chaosFirstSeed = flag.Uint64("chaosseed", 1, "the first seed of TestChaosSoak")
	chaosReadme    = flag.String("chaosreadme", "", "write TestChaosSoak's table into this README between its markers")
)

// TestChaosSoak runs the chaos scenario for every cell and seed and checks
// every run's goals.
func TestChaosSoak(t *testing.T) {
	var sums []*chaosSummary
	for _, cell := range chaosCells {
		sum := &chaosSummary{cell: cell}
		sums = append(sums, sum)
		for i := range *chaosSeeds {
			seed := *chaosFirstSeed + uint64(i)
			t.Run(fmt.Sprintf("%v/seed=%d", cell, seed), func(t *testing.T) {
				var run chaosRun
				synctest.Test(t, func(t *testing.T) { run = runChaos(t, cell, seed) })
				sum.add(run)
				for _, m := range run.missed() {
					t.Errorf("seed %d (%v): %s", seed, cell, m)
				}
				t.Logf("seed %d: %d calls, %d errors outside outages, %d before the first token (%v), %d token requests, first token %v after the outage; %s",
					seed, run.calls, run.outsideErrors(), run.startErrors(), run.startToken, run.requests, run.firstToken, run.modes)
			})
		}
	}
	command := fmt.Sprintf("go test -run '^TestChaosSoak$' . -args -chaosseeds %d", *chaosSeeds)
	table := chaosTable(sums, command)
	t.Log("\n" + table)
	if *chaosReadme != "" {
		if err := writeChaosTable(*chaosReadme, table); err != nil {
			t.Fatal(err)
		}
	}
}
