package graph

import (
	"errors"
	"fmt"

	"gorgonia.org/tensor"
)

// ErrNonFiniteLoss is wrapped by the errors of estimators and evaluations
// whose losses came out NaN or infinite: training cannot go on.
var ErrNonFiniteLoss = errors.New("the loss is not finite")

// ReadLosses copies the per-example losses of p's last run into dst, which
// must hold Rows() values. p must compute the network's Losses.
func (n *Network) ReadLosses(p *Program, dst []float64) error {
	lv, err := p.Dense(n.Losses)
	if err != nil {
		return err
	}
	if len(dst) != n.Rows() || lv.Shape().TotalSize() != n.Rows() {
		return fmt.Errorf("%d loss slots for %d rows", len(dst), n.Rows())
	}
	if lv.Dtype() == tensor.Float32 {
		for i, v := range lv.Float32s() {
			dst[i] = float64(v)
		}
		return nil
	}
	copy(dst, lv.Float64s())
	return nil
}

// Predict writes the class with the largest logit of each row of p's last
// run into dst, which must hold Rows() values (the first maximum wins
// ties, as in the zero-one loss).
func (n *Network) Predict(p *Program, dst []int) error {
	zv, err := p.Dense(n.Logits)
	if err != nil {
		return err
	}
	if len(dst) != n.Rows() {
		return fmt.Errorf("%d prediction slots for %d rows", len(dst), n.Rows())
	}
	classes := n.spec.Classes
	if zv.Dtype() == tensor.Float32 {
		z := zv.Float32s()
		for m := range dst {
			dst[m] = argmax(z[m*classes : (m+1)*classes])
		}
		return nil
	}
	z := zv.Float64s()
	for m := range dst {
		dst[m] = argmax(z[m*classes : (m+1)*classes])
	}
	return nil
}
