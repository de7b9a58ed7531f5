package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/internal/atomicfile"
	"github.com/glr-project/glr/runner"
)

const base = `name = "e"
seed = 1
[model]
hidden = [8]
[train]
epochs = 2
`

// writeRun writes the resolved.toml and summary.json of a finished run of
// the config toml (with sets applied) to a new directory named name, with
// one arm per accuracy given.
func writeRun(t *testing.T, parent, name string, accuracy float64, sets ...string) string {
	t.Helper()
	exp, err := configs.Parse("e.toml", []byte(base), sets...)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(filepath.Join(dir, "resolved.toml"), 0o644, exp.Encode); err != nil {
		t.Fatal(err)
	}
	s := &runner.Summary{Experiment: exp.Name, ConfigHash: exp.Hash(), Arms: []runner.ArmSummary{{
		Name: exp.Name, Estimator: exp.Estimator.Settings.String(), Loss: "cross-entropy", Status: "done", Epochs: 2,
		FinalTestAccuracy: accuracy, BestTestAccuracy: accuracy + 0.01, Seconds: 100 * accuracy, SecondsPerEpoch: 50 * accuracy,
	}}}
	if err := atomicfile.WriteJSON(filepath.Join(dir, "summary.json"), s); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestAggregateRuns(t *testing.T) {
	parent := t.TempDir()
	dirs := []string{
		writeRun(t, parent, "s1", 0.90, "seed=1"),
		writeRun(t, parent, "s2", 0.92, "seed=2"),
		writeRun(t, parent, "s3", 0.94, "seed=3"),
		writeRun(t, parent, "other", 0.5, `name="d"`),
	}
	aggs, err := AggregateRuns(dirs)
	if err != nil {
		t.Fatal(err)
	}
	if len(aggs) != 2 || aggs[0].Experiment != "d" || aggs[1].Experiment != "e" || aggs[1].Runs != 3 {
		t.Fatalf("aggregates %+v: want d, then e over 3 runs", aggs)
	}
	e := aggs[1]
	// Means 0.92 and 0.93, sample standard deviation 0.02.
	if !near(e.FinalAccuracy, Stat{0.92, 0.02}) || !near(e.BestAccuracy, Stat{0.93, 0.02}) || !near(e.Seconds, Stat{92, 2}) || !near(e.SecondsPerEpoch, Stat{46, 1}) {
		t.Errorf("statistics %+v", e)
	}
	if len(e.Seeds) != 3 || e.Seeds[0] != 1 || e.Seeds[2] != 3 {
		t.Errorf("seeds %v", e.Seeds)
	}
	var b strings.Builder
	if err := WriteMarkdown(&b, aggs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| e | e | glr K=1 | cross-entropy | 3 (1, 2, 3) | 92.00 ± 2.00 | 93.00 ± 2.00 | 46.0 ± 1.0 | 92 ± 2 |",
		"| d | d | glr K=1 | cross-entropy | 1 (1) | 50.00 ± 0.00 |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table:\n%s\nwant a row %s", b.String(), want)
		}
	}
}

func near(a, b Stat) bool {
	const eps = 1e-9
	return a.Mean-b.Mean < eps && b.Mean-a.Mean < eps && a.Std-b.Std < eps && b.Std-a.Std < eps
}

// TestAggregateRunsRefuses: runs that cannot be averaged are refused with
// a message naming them, where an average over them was printed before.
func TestAggregateRunsRefuses(t *testing.T) {
	parent := t.TempDir()
	s1 := writeRun(t, parent, "s1", 0.90, "seed=1")
	s2 := writeRun(t, parent, "s2", 0.92, "seed=2")
	again := writeRun(t, parent, "again", 0.91, "seed=1")
	faster := writeRun(t, parent, "faster", 0.95, "seed=3", "optimizer.learning_rate=0.5")
	wider := writeRun(t, parent, "wider", 0.95, "seed=4", "model.hidden=[16]")
	empty := filepath.Join(parent, "empty")
	os.Mkdir(empty, 0o755)
	stale := writeRun(t, parent, "stale", 0.9, "seed=5")
	os.WriteFile(filepath.Join(stale, "resolved.toml"), []byte(base+"[optimizer]\nlearning_rate = 0.3\n"), 0o644)

	cases := []struct {
		name string
		dirs []string
		want string
	}{
		{"a directory twice", []string{s1, s2, s1}, "summarize: the run " + s1 + " is given twice (also as " + s1 + ")"},
		{"a directory twice, spelled differently", []string{s1, s1 + "/../s1/"}, "summarize: the run " + s1 + "/../s1/ is given twice (also as " + s1 + ")"},
		{"one seed twice", []string{s1, s2, again}, "summarize: runs " + s1 + " and " + again + " of e both have seed 1; give each seed once"},
		{"another learning rate", []string{s1, faster}, "summarize: runs " + s1 + " and " + faster + " of e differ in more than the seed (first in optimizer.learning_rate); summarize them separately"},
		{"another network", []string{s1, s2, wider}, "summarize: runs " + s1 + " and " + wider + " of e differ in more than the seed (first in model.hidden); summarize them separately"},
		{"no summary", []string{s1, empty}, "summarize: " + empty + " is not a finished run: open " + filepath.Join(empty, "summary.json")},
		{"a summary of another config", []string{stale}, "summarize: " + stale + ": summary.json was written for config "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := AggregateRuns(c.dirs)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestFirstDifference(t *testing.T) {
	cases := []struct{ a, b, want string }{
		{"name = 1\n[model]\nhidden = [8]\n", "name = 1\n[model]\nhidden = [9]\n", "model.hidden"},
		{"seed = 1\nname = 2\n", "seed = 1\nname = 3\n", "name"},
		{"[a]\nx = 1\n[b]\ny = 1\n", "[a]\nx = 1\n[c]\ny = 1\n", "b"},
		{"x = 1\n", "x = 1\n[[arms]]\n", "arms"},
		{"[t]\nk1 = 1\n[u]\n", "[t]\nk1 = 1\nk2 = 2\n[u]\n", "t.k2"},
		{"[[arms]]\nname = \"a\"\n", "[[arms]]\nname = \"b\"\n", "arms.name"},
	}
	for _, c := range cases {
		if got := firstDifference([]byte(c.a), []byte(c.b)); got != c.want {
			t.Errorf("firstDifference(%q, %q) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}
