package runner

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
)

// ReadSummary reads the summary.json of a run directory.
func ReadSummary(dir string) (*Summary, error) {
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return nil, fmt.Errorf("read summary: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read summary %s: %w", filepath.Join(dir, "summary.json"), err)
	}
	return &s, nil
}

// Aggregate is one experiment arm over several runs (seeds).
type Aggregate struct {
	Experiment, Arm, Estimator, Loss string
	Runs                             int
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

// AggregateRuns groups the arms of the runs in dirs by experiment and arm
// name and returns their statistics, sorted by experiment then arm.
func AggregateRuns(dirs []string) ([]Aggregate, error) {
	type key struct{ exp, arm string }
	groups := map[key][]ArmSummary{}
	var order []key
	for _, d := range dirs {
		s, err := ReadSummary(d)
		if err != nil {
			return nil, err
		}
		for _, a := range s.Arms {
			k := key{s.Experiment, a.Name}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], a)
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
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
		out = append(out, Aggregate{Experiment: k.exp, Arm: k.arm, Estimator: as[0].Estimator, Loss: as[0].Loss, Runs: len(as),
			FinalAccuracy: stat(fin), BestAccuracy: stat(best), Seconds: stat(secs), SecondsPerEpoch: stat(spe)})
	}
	return out, nil
}

// WriteMarkdown prints the aggregates as a markdown table, accuracies in %.
func WriteMarkdown(w io.Writer, aggs []Aggregate) error {
	if _, err := fmt.Fprintln(w, "| experiment | arm | estimator | loss | runs | final test accuracy (%) | best test accuracy (%) | seconds per epoch | wall seconds |"); err != nil {
		return err
	}
	fmt.Fprintln(w, "|---|---|---|---|---:|---:|---:|---:|---:|")
	for _, a := range aggs {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %d | %.2f ± %.2f | %.2f ± %.2f | %.1f ± %.1f | %.0f ± %.0f |\n",
			a.Experiment, a.Arm, a.Estimator, a.Loss, a.Runs,
			100*a.FinalAccuracy.Mean, 100*a.FinalAccuracy.Std, 100*a.BestAccuracy.Mean, 100*a.BestAccuracy.Std,
			a.SecondsPerEpoch.Mean, a.SecondsPerEpoch.Std, a.Seconds.Mean, a.Seconds.Std)
	}
	return nil
}
