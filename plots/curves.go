package plots

import (
	"errors"
	"fmt"
)

// ArmCurve is the per-epoch record of one training arm (one estimator or
// configuration): TrainLoss[i], TestLoss[i] and TestAccuracy[i] were measured
// after epoch Epochs[i]. Accuracy is a fraction in [0, 1] or a percentage;
// the axis fits the data either way.
type ArmCurve struct {
	Name         string
	Epochs       []int
	TrainLoss    []float64
	TestLoss     []float64
	TestAccuracy []float64
}

// Curves writes the training report for arms to path as a PNG, with
// WritePNG at its default size (1200×450 px). It has two panels:
//
//   - "loss": the series "NAME train" (TrainLoss) and "NAME test" (TestLoss)
//     of every arm, against epoch;
//   - "test accuracy": the series "NAME test" (TestAccuracy) of every arm.
//
// Because styles follow series names, an arm's test line has the same colour,
// dash and marker in both panels.
//
// It returns an error if arms is empty, an arm has no name or the same name
// as another arm, or an arm has no epochs or a metric slice whose length
// differs from len(Epochs); and every error WritePNG returns, in particular
// ErrNoFinitePoints for a metric that is NaN or infinite at every epoch.
func Curves(path string, arms []ArmCurve) error {
	if len(arms) == 0 {
		return errors.New("plots: no arms")
	}
	loss := Panel{Title: "loss", XLabel: "epoch", YLabel: "loss"}
	acc := Panel{Title: "test accuracy", XLabel: "epoch", YLabel: "accuracy"}
	seen := make(map[string]bool, len(arms))
	for i, a := range arms {
		if a.Name == "" {
			return fmt.Errorf("plots: arm %d has no name", i)
		}
		if seen[a.Name] {
			return fmt.Errorf("plots: duplicate arm name %q", a.Name)
		}
		seen[a.Name] = true
		if len(a.Epochs) == 0 {
			return fmt.Errorf("plots: arm %q has no epochs", a.Name)
		}
		for _, m := range []struct {
			name string
			v    []float64
		}{{"TrainLoss", a.TrainLoss}, {"TestLoss", a.TestLoss}, {"TestAccuracy", a.TestAccuracy}} {
			if len(m.v) != len(a.Epochs) {
				return fmt.Errorf("plots: arm %q: len(%s) = %d, len(Epochs) = %d", a.Name, m.name, len(m.v), len(a.Epochs))
			}
		}
		x := make([]float64, len(a.Epochs))
		for j, e := range a.Epochs {
			x[j] = float64(e)
		}
		loss.Series = append(loss.Series,
			Series{Name: a.Name + " train", X: x, Y: a.TrainLoss},
			Series{Name: a.Name + " test", X: x, Y: a.TestLoss})
		acc.Series = append(acc.Series, Series{Name: a.Name + " test", X: x, Y: a.TestAccuracy})
	}
	return WritePNG(path, 0, 0, loss, acc)
}
