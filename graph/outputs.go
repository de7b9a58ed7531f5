package graph

import (
	"fmt"

	"gorgonia.org/tensor"
)

// ReadLosses copies the per-example losses of the last pass into dst, which
// must hold Rows() values. Read them before the machine is reset.
func (n *Network) ReadLosses(dst []float64) error {
	lv, ok := n.Losses.Value().(*tensor.Dense)
	if !ok {
		return fmt.Errorf("the losses were not computed")
	}
	if len(dst) != n.Rows() {
		return fmt.Errorf("%d loss slots for %d rows", len(dst), n.Rows())
	}
	switch l := lv.Data().(type) {
	case []float64:
		copy(dst, l)
	case []float32:
		for i, v := range l {
			dst[i] = float64(v)
		}
	}
	return nil
}

// Predict writes the class with the largest logit of each row of the last
// pass into dst, which must hold Rows() values (the first maximum wins
// ties, as in the zero-one loss).
func (n *Network) Predict(dst []int) error {
	zv, ok := n.Logits.Value().(*tensor.Dense)
	if !ok {
		return fmt.Errorf("the logits were not computed")
	}
	if len(dst) != n.Rows() {
		return fmt.Errorf("%d prediction slots for %d rows", len(dst), n.Rows())
	}
	classes := n.spec.Classes
	switch z := zv.Data().(type) {
	case []float64:
		for m := range dst {
			dst[m] = argmax(z[m*classes : (m+1)*classes])
		}
	case []float32:
		for m := range dst {
			dst[m] = argmax(z[m*classes : (m+1)*classes])
		}
	}
	return nil
}
