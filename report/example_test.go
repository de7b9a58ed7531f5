package report_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/internal/atomicfile"
	"github.com/glr-project/glr/report"
	"github.com/glr-project/glr/runner"
)

// Example tabulates three runs of one experiment that differ in their seed
// alone, as glr run -seeds 1,2,3 leaves them.
func Example() {
	parent, err := os.MkdirTemp("", "glr-report")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(parent)
	var dirs []string
	for i, acc := range []float64{0.90, 0.92, 0.94} {
		exp, err := configs.Parse("e.toml", []byte("name = \"e\"\n"), fmt.Sprintf("seed=%d", i+1))
		if err != nil {
			log.Fatal(err)
		}
		dir := filepath.Join(parent, fmt.Sprintf("seed-%d", i+1))
		os.Mkdir(dir, 0o755)
		if err := atomicfile.Write(filepath.Join(dir, "resolved.toml"), 0o644, exp.Encode); err != nil {
			log.Fatal(err)
		}
		s := &runner.Summary{Experiment: "e", ConfigHash: exp.Hash(), Arms: []runner.ArmSummary{
			{Name: "e", Estimator: "glr K=1", Loss: "cross-entropy", FinalTestAccuracy: acc, BestTestAccuracy: acc, Seconds: 60, SecondsPerEpoch: 7.5},
		}}
		if err := atomicfile.WriteJSON(filepath.Join(dir, "summary.json"), s); err != nil {
			log.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	aggs, err := report.AggregateRuns(dirs)
	if err != nil {
		log.Fatal(err)
	}
	report.WriteMarkdown(os.Stdout, aggs)
	// Output:
	// | experiment | arm | estimator | loss | runs (seeds) | final test accuracy (%) | best test accuracy (%) | seconds per epoch | wall seconds |
	// |---|---|---|---|---:|---:|---:|---:|---:|
	// | e | e | glr K=1 | cross-entropy | 3 (1, 2, 3) | 92.00 ± 2.00 | 92.00 ± 2.00 | 7.5 ± 0.0 | 60 ± 0 |
}
