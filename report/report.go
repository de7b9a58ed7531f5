// Package report tabulates finished runs: each arm's accuracy and time,
// mean ± standard deviation over runs that differ only in their seed.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/runner"
)

// Aggregate is one experiment arm over several runs (seeds).
type Aggregate struct {
	Experiment, Arm, Estimator, Loss string
	Runs                             int
	Seeds                            []uint64
	FinalAccuracy, BestAccuracy      Stat // in [0,1]
	Seconds, SecondsPerEpoch         Stat
}

// Stat is a mean and a sample standard deviation.
type Stat struct{ Mean, Std float64 }

func stat(xs []float64) Stat {
	var s Stat
	for _, x := range xs {
		s.Mean += x
	}
	s.Mean /= float64(len(xs))
	if len(xs) > 1 {
		for _, x := range xs {
			s.Std += (x - s.Mean) * (x - s.Mean)
		}
		s.Std = math.Sqrt(s.Std / float64(len(xs)-1))
	}
	return s
}

// run is one run directory's summary and configuration.
type run struct {
	dir     string
	summary runner.Summary
	exp     *configs.Experiment
	// unseeded is the encoding of the config with its seed cleared: runs
	// of one group must agree on it.
	unseeded []byte
}

func load(dir string) (*run, error) {
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return nil, fmt.Errorf("summarize: %s is not a finished run: %w", dir, err)
	}
	r := &run{dir: dir}
	if err := json.Unmarshal(b, &r.summary); err != nil {
		return nil, fmt.Errorf("summarize: %s: %w", filepath.Join(dir, "summary.json"), err)
	}
	if r.exp, err = configs.Load(filepath.Join(dir, "resolved.toml")); err != nil {
		return nil, fmt.Errorf("summarize: %w", err)
	}
	if h := r.exp.Hash(); h != r.summary.ConfigHash {
		return nil, fmt.Errorf("summarize: %s: summary.json was written for config %.12s, resolved.toml is %.12s", dir, r.summary.ConfigHash, h)
	}
	e := *r.exp
	e.Seed = 0
	var buf bytes.Buffer
	if err := e.Encode(&buf); err != nil {
		return nil, fmt.Errorf("summarize: %w", err)
	}
	r.unseeded = buf.Bytes()
	return r, nil
}

// AggregateRuns groups the arms of the runs in dirs by experiment and arm
// name and returns their statistics, sorted by experiment then arm. Runs
// of one experiment must differ in their seed and in nothing else: a
// directory given twice, two runs of one seed, or two configs that differ
// in another key are errors that name the runs (and the first key in which
// they differ).
func AggregateRuns(dirs []string) ([]Aggregate, error) {
	seen := map[string]string{}
	byExp := map[string][]*run{}
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("summarize: %w", err)
		}
		if prev, dup := seen[abs]; dup {
			return nil, fmt.Errorf("summarize: the run %s is given twice (also as %s)", d, prev)
		}
		seen[abs] = d
		r, err := load(d)
		if err != nil {
			return nil, err
		}
		for _, other := range byExp[r.exp.Name] {
			if other.exp.Seed == r.exp.Seed {
				return nil, fmt.Errorf("summarize: runs %s and %s of %s both have seed %d; give each seed once", other.dir, d, r.exp.Name, r.exp.Seed)
			}
			if !bytes.Equal(other.unseeded, r.unseeded) {
				return nil, fmt.Errorf("summarize: runs %s and %s of %s differ in more than the seed (first in %s); summarize them separately",
					other.dir, d, r.exp.Name, firstDifference(other.unseeded, r.unseeded))
			}
		}
		byExp[r.exp.Name] = append(byExp[r.exp.Name], r)
	}
	type key struct{ exp, arm string }
	groups := map[key][]runner.ArmSummary{}
	seeds := map[key][]uint64{}
	var order []key
	for _, runs := range byExp {
		for _, r := range runs {
			for _, a := range r.summary.Arms {
				k := key{r.exp.Name, a.Name}
				if _, ok := groups[k]; !ok {
					order = append(order, k)
				}
				groups[k] = append(groups[k], a)
				seeds[k] = append(seeds[k], r.exp.Seed)
			}
		}
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].exp != order[j].exp {
			return order[i].exp < order[j].exp
		}
		return order[i].arm < order[j].arm
	})
	var out []Aggregate
	for _, k := range order {
		as := groups[k]
		var fin, best, secs, spe []float64
		for _, a := range as {
			fin = append(fin, a.FinalTestAccuracy)
			best = append(best, a.BestTestAccuracy)
			secs = append(secs, a.Seconds)
			spe = append(spe, a.SecondsPerEpoch)
		}
		ss := seeds[k]
		sort.Slice(ss, func(i, j int) bool { return ss[i] < ss[j] })
		out = append(out, Aggregate{Experiment: k.exp, Arm: k.arm, Estimator: as[0].Estimator, Loss: as[0].Loss, Runs: len(as), Seeds: ss,
			FinalAccuracy: stat(fin), BestAccuracy: stat(best), Seconds: stat(secs), SecondsPerEpoch: stat(spe)})
	}
	return out, nil
}

// firstDifference names the first key (or table) whose line differs
// between two encodings, as a dotted key.
func firstDifference(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	line := func(ls []string, i int) string {
		if i < len(ls) {
			return strings.TrimSpace(ls[i])
		}
		return ""
	}
	header := func(l string) bool { return strings.HasPrefix(l, "[") }
	table := ""
	for i := 0; i < max(len(la), len(lb)); i++ {
		x, y := line(la, i), line(lb, i)
		if x == y {
			if header(x) {
				table = strings.Trim(x, "[] ")
			}
			continue
		}
		// A key of the current table comes before the next table's header.
		for _, l := range []string{x, y} {
			if k, _, ok := strings.Cut(l, "="); ok && !header(l) {
				if k = strings.TrimSpace(k); table != "" {
					k = table + "." + k
				}
				return k
			}
		}
		for _, l := range []string{x, y} {
			if header(l) {
				return strings.Trim(l, "[] ")
			}
		}
	}
	return "the arms"
}

// WriteMarkdown prints the aggregates as a markdown table, accuracies in %.
func WriteMarkdown(w io.Writer, aggs []Aggregate) error {
	if _, err := fmt.Fprintln(w, "| experiment | arm | estimator | loss | runs (seeds) | final test accuracy (%) | best test accuracy (%) | seconds per epoch | wall seconds |"); err != nil {
		return err
	}
	fmt.Fprintln(w, "|---|---|---|---|---:|---:|---:|---:|---:|")
	for _, a := range aggs {
		seeds := make([]string, len(a.Seeds))
		for i, s := range a.Seeds {
			seeds[i] = fmt.Sprint(s)
		}
		_, err := fmt.Fprintf(w, "| %s | %s | %s | %s | %d (%s) | %.2f ± %.2f | %.2f ± %.2f | %.1f ± %.1f | %.0f ± %.0f |\n",
			a.Experiment, a.Arm, a.Estimator, a.Loss, a.Runs, strings.Join(seeds, ", "),
			100*a.FinalAccuracy.Mean, 100*a.FinalAccuracy.Std, 100*a.BestAccuracy.Mean, 100*a.BestAccuracy.Std,
			a.SecondsPerEpoch.Mean, a.SecondsPerEpoch.Std, a.Seconds.Mean, a.Seconds.Std)
		if err != nil {
			return err
		}
	}
	return nil
}
