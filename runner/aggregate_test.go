package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAggregateRuns(t *testing.T) {
	var dirs []string
	for i, acc := range []float64{0.90, 0.92, 0.94} {
		d := filepath.Join(t.TempDir(), "run")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		s := &Summary{Experiment: "e", Arms: []ArmSummary{
			{Name: "glr", Estimator: "glr K=10", Loss: "cross-entropy", FinalTestAccuracy: acc, BestTestAccuracy: acc, Seconds: float64(10 * (i + 1)), SecondsPerEpoch: 1},
		}}
		if err := writeJSONAtomic(filepath.Join(d, "summary.json"), s); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	aggs, err := AggregateRuns(dirs)
	if err != nil {
		t.Fatal(err)
	}
	if len(aggs) != 1 || aggs[0].Runs != 3 {
		t.Fatalf("aggregates %+v", aggs)
	}
	var b strings.Builder
	if err := WriteMarkdown(&b, aggs); err != nil {
		t.Fatal(err)
	}
	// mean 92 %, sample std 2 %; seconds 20 ± 10.
	if want := "| e | glr | glr K=10 | cross-entropy | 3 | 92.00 ± 2.00 | 92.00 ± 2.00 | 1.0 ± 0.0 | 20 ± 10 |"; !strings.Contains(b.String(), want) {
		t.Fatalf("table:\n%s\nwant a row %s", b.String(), want)
	}
	if _, err := AggregateRuns([]string{t.TempDir()}); err == nil || !strings.Contains(err.Error(), "summary.json") {
		t.Fatalf("missing summary: err = %v", err)
	}
}
