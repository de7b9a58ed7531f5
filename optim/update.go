package optim

import "math"

// float is a dtype the optimizers update.
type float interface{ float32 | float64 }

// hyper holds one Step's constants in the dtype T of the parameters.
type hyper[T float] struct {
	lr, wd T

	// momentum
	velocity bool // whether this update uses the velocity
	mu       T

	// adagrad
	eps T

	// adam
	b1, c1   T // β1 and 1−β1
	b2, c2   T // β2 and 1−β2
	bc1, bc2 T // 1−β1^t and 1−β2^t
}

// set fills h for update t (counted from 1) of o.
func (h *hyper[T]) set(o *optimizer, t int) {
	h.lr, h.wd = T(o.lr), T(o.wd)
	switch o.kind {
	case kindMomentum:
		h.velocity = t >= momentumStart
		h.mu = momentumCoef
	case kindAdagrad:
		h.eps = adagradEps
	case kindAdam:
		// 1−β is computed at run time in float64, as the reference code
		// does, rather than exactly at compile time.
		b1, b2 := float64(adamBeta1), float64(adamBeta2)
		h.b1, h.c1 = T(b1), T(1-b1)
		h.b2, h.c2 = T(b2), T(1-b2)
		h.bc1 = T(1 - math.Pow(b1, float64(t)))
		h.bc2 = T(1 - math.Pow(b2, float64(t)))
		h.eps = adamEps
	}
}

// update applies one update of rule k to w from g, with state m.
// The explicit conversions T(…) round every product, which keeps the
// compiler from fusing it into a multiply-add.
func update[T float](k kind, h *hyper[T], w, g []T, m [][]T) {
	g = g[:len(w)]
	switch k {
	case kindSGD:
		sgd(h, w, g)
	case kindMomentum:
		if !h.velocity {
			sgd(h, w, g)
			return
		}
		v := m[0][:len(w)]
		for i := range w {
			gi := g[i] + T(h.wd*w[i])
			v[i] = T(h.mu*v[i]) - T(h.lr*gi)
			w[i] += v[i]
		}
	case kindAdagrad:
		r := m[0][:len(w)]
		for i := range w {
			gi := g[i] + T(h.wd*w[i])
			r[i] += T(gi * gi)
			w[i] -= T(h.lr*gi) / (h.eps + sqrt(r[i]))
		}
	case kindAdam:
		m1, m2 := m[0][:len(w)], m[1][:len(w)]
		for i := range w {
			gi := g[i] + T(h.wd*w[i])
			m1[i] = T(h.b1*m1[i]) + T(h.c1*gi)
			m2[i] = T(h.b2*m2[i]) + T(h.c2*T(gi*gi))
			mhat := m1[i] / h.bc1
			vhat := m2[i] / h.bc2
			w[i] -= T(h.lr*mhat) / (sqrt(vhat) + h.eps)
		}
	}
}

// sgd applies W ← W − lr·(grad + wd·W).
func sgd[T float](h *hyper[T], w, g []T) {
	for i := range w {
		gi := g[i] + T(h.wd*w[i])
		w[i] -= T(h.lr * gi)
	}
}

// sqrt returns the correctly rounded square root of x in its own dtype
// (a float64 square root rounded to float32 is correctly rounded).
func sqrt[T float](x T) T { return T(math.Sqrt(float64(x))) }
