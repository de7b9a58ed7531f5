// Package robust evaluates trained models under adversarial attacks and
// natural corruptions of a test set.
package robust

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/attack"
	"github.com/glr-project/glr/corrupt"
	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/internal/atomicfile"
	"github.com/glr-project/glr/models"
	"github.com/glr-project/glr/plots"
)

// Attack sets that are not corruptions. Every corruption name of package
// corrupt is a set too.
const (
	SetClean         = "clean"
	SetFGSMTransfer  = "fgsm-transfer"  // FGSM crafted on the substitute (black box)
	SetLBFGSTransfer = "lbfgs-transfer" // the seed's L-BFGS attack crafted on the substitute
	SetFGSM          = "fgsm"           // white-box FGSM with the model's backpropagated input gradient
	SetPGD           = "pgd"            // white-box PGD, same gradient
	SetZOFGSM        = "zo-fgsm"        // white-box FGSM with the likelihood-ratio (zeroth-order) input gradient
	SetZOPGD         = "zo-pgd"         // white-box PGD, same gradient
)

// SeedProtocolSets are the sets of the seed's robustness table: clean, the
// two transfer attacks and its four corruptions (seed-method.md §6).
var SeedProtocolSets = []string{SetClean, SetFGSMTransfer, SetLBFGSTransfer, "gaussian", "impulse", "glass-blur-seed", "contrast"}

// DefaultEps are the budgets of the ε-bounded attacks; 0.13 is the seed's.
var DefaultEps = []float64{0.05, 0.1, 0.13, 0.2, 0.3}

// AllSets lists every set name.
func AllSets() []string {
	return append([]string{SetClean, SetFGSMTransfer, SetLBFGSTransfer, SetFGSM, SetPGD, SetZOFGSM, SetZOPGD}, corrupt.Names()...)
}

// RobustOptions configures a robustness evaluation.
type RobustOptions struct {
	Sets       []string        // set names (AllSets); nil = SeedProtocolSets
	Eps        []float64       // budgets of the ε-bounded attacks; nil = DefaultEps
	Severities []int           // corruption severities; nil = 1..5
	Limit      int             // evaluate on the first Limit test images; 0 = all
	Seed       uint64          // seeds corruptions, PGD starts and zeroth-order draws
	Substitute *models.Trained // the transfer attacks' substitute
	PGDSteps   int             // 0 = 10
	ZOSamples  int             // zeroth-order samples per example and step; 0 = 50
	ZOSigma    float64         // zeroth-order smoothing scale; 0 = 0.05
	Log        io.Writer       // progress (nil: discard)
}

// RobustRow is one result: a model's accuracy on one set at one parameter
// (ε for attacks, severity for corruptions, 0 for the clean set and the
// unbudgeted L-BFGS attack).
type RobustRow struct {
	Model    string  `json:"model"`
	Set      string  `json:"set"`
	Param    float64 `json:"param"`
	Accuracy float64 `json:"accuracy"`
}

func (o *RobustOptions) defaults() error {
	if o.Sets == nil {
		o.Sets = SeedProtocolSets
	}
	if o.Eps == nil {
		o.Eps = DefaultEps
	}
	if o.Severities == nil {
		o.Severities = []int{1, 2, 3, 4, 5}
	}
	if o.PGDSteps == 0 {
		o.PGDSteps = 10
	}
	if o.ZOSamples == 0 {
		o.ZOSamples = 50
	}
	if o.ZOSigma == 0 {
		o.ZOSigma = 0.05
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	all := AllSets()
	for _, s := range o.Sets {
		if !slices.Contains(all, s) {
			return fmt.Errorf("robust: unknown set %q (want %s)", s, strings.Join(all, " | "))
		}
		if (s == SetFGSMTransfer || s == SetLBFGSTransfer) && o.Substitute == nil {
			return fmt.Errorf("robust: the %s set needs a substitute model (-substitute)", s)
		}
	}
	for _, e := range o.Eps {
		if !(e >= 0 && e <= 1) {
			return fmt.Errorf("robust: ε %v is outside [0, 1]", e)
		}
	}
	for _, s := range o.Severities {
		if s < corrupt.MinSeverity || s > corrupt.MaxSeverity {
			return fmt.Errorf("robust: severity %d is outside [%d, %d]", s, corrupt.MinSeverity, corrupt.MaxSeverity)
		}
	}
	return nil
}

// Robust evaluates every model on every set of opts over the test set and
// returns one row per model, set and parameter. Sets that do not depend on
// the model (transfer attacks, corruptions) are built once.
func Robust(trained []*models.Trained, test *datasets.Set, opts RobustOptions) ([]RobustRow, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if len(trained) == 0 {
		return nil, fmt.Errorf("robust: no models")
	}
	test = test.Limit(opts.Limit)
	n, d := test.Len(), test.Features
	x := make([]float64, n*d)
	labels := make([]int, n)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if err := test.Gather(idx, x, labels); err != nil {
		return nil, fmt.Errorf("robust: %w", err)
	}
	image := assemble.Image(test)
	cls := make([]*models.Classifier, len(trained))
	for i, m := range trained {
		c, err := m.Classifier(image, test.Classes, "cross-entropy", false)
		if err != nil {
			return nil, fmt.Errorf("robust: %w", err)
		}
		defer c.Close()
		cls[i] = c
	}
	var sub *models.Classifier
	if opts.Substitute != nil {
		var err error
		if sub, err = opts.Substitute.Classifier(image, test.Classes, "cross-entropy", false); err != nil {
			return nil, fmt.Errorf("robust: substitute: %w", err)
		}
		defer sub.Close()
	}
	var rows []RobustRow
	evalAll := func(set string, param float64, xs []float64) error {
		for i, c := range cls {
			acc, err := accuracy(c, xs, labels)
			if err != nil {
				return fmt.Errorf("robust: %s on %s: %w", trained[i].Name, set, err)
			}
			rows = append(rows, RobustRow{Model: trained[i].Name, Set: set, Param: param, Accuracy: acc})
		}
		return nil
	}
	logf := func(format string, args ...any) { fmt.Fprintf(opts.Log, "robust: "+format+"\n", args...) }
	for _, set := range opts.Sets {
		began := time.Now()
		switch set {
		case SetClean:
			if err := evalAll(set, 0, x); err != nil {
				return nil, err
			}
		case SetFGSMTransfer:
			for _, eps := range opts.Eps {
				adv, err := attack.FGSM(sub, x, labels, eps)
				if err != nil {
					return nil, fmt.Errorf("robust: %s ε=%g: %w", set, eps, err)
				}
				if err := evalAll(set, eps, adv); err != nil {
					return nil, err
				}
			}
		case SetLBFGSTransfer:
			adv, err := attack.LBFGS(sub, x, labels, attack.LBFGSOptions{})
			if err != nil {
				return nil, fmt.Errorf("robust: %s: %w", set, err)
			}
			if err := evalAll(set, 0, adv); err != nil {
				return nil, err
			}
		case SetFGSM, SetPGD, SetZOFGSM, SetZOPGD:
			for i, c := range cls {
				var g attack.GradientModel = c
				if set == SetZOFGSM || set == SetZOPGD {
					g = &attack.ZerothOrder{Model: c, Samples: opts.ZOSamples, Sigma: opts.ZOSigma, Antithetic: true,
						Rng: rand.New(rand.NewPCG(opts.Seed, 0x20f65)), MaxRows: 1000}
				} else if trained[i].Config.Model.Activation == "threshold" {
					logf("%s: skipping %s: a threshold network's backpropagated input gradient is zero; use zo-fgsm/zo-pgd", trained[i].Name, set)
					continue
				}
				for _, eps := range opts.Eps {
					var adv []float64
					var err error
					if set == SetFGSM || set == SetZOFGSM {
						adv, err = attack.FGSM(g, x, labels, eps)
					} else {
						adv, err = attack.PGD(g, x, labels, eps, attack.PGDOptions{Steps: opts.PGDSteps})
					}
					if err != nil {
						return nil, fmt.Errorf("robust: %s on %s ε=%g: %w", set, trained[i].Name, eps, err)
					}
					acc, err := accuracy(c, adv, labels)
					if err != nil {
						return nil, fmt.Errorf("robust: %s on %s: %w", set, trained[i].Name, err)
					}
					rows = append(rows, RobustRow{Model: trained[i].Name, Set: set, Param: eps, Accuracy: acc})
				}
			}
		default: // a corruption
			c, err := corrupt.Lookup(set)
			if err != nil {
				return nil, fmt.Errorf("robust: %w", err)
			}
			out := make([]float64, len(x))
			for _, sev := range opts.Severities {
				if err := corrupt.ApplySet(c, out, x, n, test.Height, test.Width, sev, opts.Seed^uint64(sev)<<32); err != nil {
					return nil, fmt.Errorf("robust: %w", err)
				}
				if err := evalAll(set, float64(sev), out); err != nil {
					return nil, err
				}
			}
		}
		logf("%s done in %.1f s", set, time.Since(began).Seconds())
	}
	return rows, nil
}

func accuracy(c *models.Classifier, x []float64, labels []int) (float64, error) {
	pred := make([]int, len(labels))
	if err := c.Predict(x, pred); err != nil {
		return 0, err
	}
	correct := 0
	for i, p := range pred {
		if p == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(labels)), nil
}

// WriteRobustTable prints rows as a table: a line per model and set, a
// column per parameter, and for corruptions the mean over severities (the
// seed's metric).
func WriteRobustTable(w io.Writer, rows []RobustRow, markdown bool) error {
	type key struct{ model, set string }
	var keys []key
	byKey := map[key][]RobustRow{}
	for _, r := range rows {
		k := key{r.Model, r.Set}
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	line := func(cells ...string) string {
		if markdown {
			return "| " + strings.Join(cells, " | ") + " |\n"
		}
		return strings.Join(cells, "\t") + "\n"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, line("model", "set", "accuracy % by parameter (ε or severity)", "mean %"))
	if markdown {
		fmt.Fprint(tw, "|---|---|---|---:|\n")
	}
	for _, k := range keys {
		var cells []string
		var sum float64
		for _, r := range byKey[k] {
			cells = append(cells, fmt.Sprintf("%s: %.2f", strconv.FormatFloat(r.Param, 'g', -1, 64), 100*r.Accuracy))
			sum += r.Accuracy
		}
		fmt.Fprint(tw, line(k.model, k.set, strings.Join(cells, ", "), fmt.Sprintf("%.2f", 100*sum/float64(len(byKey[k])))))
	}
	return tw.Flush()
}

// WriteRobustFiles writes robust.json (the rows), robust.md, robust.csv and
// accuracy-vs-eps.png (one panel per ε-bounded set, a line per model) into
// dir, each atomically.
func WriteRobustFiles(dir string, rows []RobustRow) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("robust: %w", err)
	}
	if err := atomicfile.WriteJSON(filepath.Join(dir, "robust.json"), rows); err != nil {
		return err
	}
	err := atomicfile.Write(filepath.Join(dir, "robust.md"), 0o644, func(w io.Writer) error { return WriteRobustTable(w, rows, true) })
	if err != nil {
		return err
	}
	err = atomicfile.Write(filepath.Join(dir, "robust.csv"), 0o644, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"model", "set", "param", "accuracy"})
		for _, r := range rows {
			cw.Write([]string{r.Model, r.Set, strconv.FormatFloat(r.Param, 'g', -1, 64), strconv.FormatFloat(r.Accuracy, 'f', 4, 64)})
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return err
	}
	var panels []plots.Panel
	for _, set := range []string{SetFGSMTransfer, SetFGSM, SetPGD, SetZOFGSM, SetZOPGD} {
		series := map[string]*plots.Series{}
		var order []string
		for _, r := range rows {
			if r.Set != set {
				continue
			}
			s, ok := series[r.Model]
			if !ok {
				s = &plots.Series{Name: r.Model}
				series[r.Model] = s
				order = append(order, r.Model)
			}
			s.X = append(s.X, r.Param)
			s.Y = append(s.Y, r.Accuracy)
		}
		if len(order) == 0 {
			continue
		}
		p := plots.Panel{Title: set, XLabel: "ε (L∞)", YLabel: "accuracy"}
		for _, m := range order {
			p.Series = append(p.Series, *series[m])
		}
		panels = append(panels, p)
	}
	if len(panels) == 0 {
		return nil
	}
	return plots.WritePNG(filepath.Join(dir, "accuracy-vs-eps.png"), 0, 0, panels...)
}

// WriteRobustJSON writes the rows as a JSON array.
func WriteRobustJSON(w io.Writer, rows []RobustRow) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}
