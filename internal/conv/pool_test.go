package conv

import (
	"math"
	"math/rand/v2"
	"testing"
)

// directPool reduces each window of x channel by channel from the
// definition: the maximum (the first in row-major order on ties, a NaN beating
// every number) with its flat index, or the mean computed in float64.
func directPool[T float](x []T, batch int, g Pool) (y []float64, arg []int32) {
	in, s := g.In, g.Size
	oh, ow := in.H/s, in.W/s
	y = make([]float64, batch*oh*ow*in.C)
	arg = make([]int32, len(y))
	for b := 0; b < batch; b++ {
		for c := 0; c < in.C; c++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					o := ((b*oh+oy)*ow+ox)*in.C + c
					best, at, sum := math.Inf(-1), -1, 0.0
					for ky := 0; ky < s; ky++ {
						for kx := 0; kx < s; kx++ {
							i := ((b*in.H+oy*s+ky)*in.W+ox*s+kx)*in.C + c
							v := float64(x[i])
							sum += v
							if at < 0 || v > best || math.IsNaN(v) && !math.IsNaN(best) {
								best, at = v, i
							}
						}
					}
					if g.Kind == Max {
						y[o], arg[o] = best, int32(at)
					} else {
						y[o] = sum / float64(s*s)
					}
				}
			}
		}
	}
	return y, arg
}

// distinct returns n values of T, a random permutation of (i − n/2)/16: exact
// in float32 and float64, all distinct, and at least 1/16 apart.
func distinct[T float](seed uint64, n int) []T {
	r := rand.New(rand.NewPCG(seed, 0x706f6f6c))
	v := make([]T, n)
	for i, p := range r.Perm(n) {
		v[i] = T(float64(p-n/2) / 16)
	}
	return v
}

// pool runs the forward kernel of g's kind, discarding arg for Avg.
func pool[T float](dst []T, arg []int32, x []T, batch int, g Pool) error {
	if g.Kind == Max {
		return MaxPool(dst, arg, x, batch, g)
	}
	return AvgPool(dst, x, batch, g)
}

// poolBackward runs the backward kernel of g's kind.
func poolBackward[T float](dx, dy []T, arg []int32, batch int, g Pool) error {
	if g.Kind == Max {
		return MaxPoolBackward(dx, dy, arg, batch, g)
	}
	return AvgPoolBackward(dx, dy, batch, g)
}

func TestPool(t *testing.T) {
	t.Run("float32", testPool[float32])
	t.Run("float64", testPool[float64])
}

// testPool checks both pools on every geometry: the forward values (and max
// indices) against directPool, on random inputs and on inputs full of ties;
// the backward by the adjoint identity and by central finite differences of
// the random linear functional f(x) = ⟨pool(x), G⟩.
func testPool[T float](t *testing.T) {
	u := unitRoundoff[T]()
	for i, c := range poolCases {
		for _, kind := range []PoolKind{Max, Avg} {
			g := Pool{In: c.in, Size: c.size, Kind: kind}
			t.Run(c.name+" "+kind.String(), func(t *testing.T) {
				batch, n := c.batch, c.batch*c.in.Len()
				m := batch * c.oh * c.ow * c.in.C
				seed := uint64(100 * i)
				if kind == Avg {
					seed += 50
				}
				y, arg := make([]T, m), make([]int32, m)

				// Forward: random values, then values in {0, 1, 2}, full of ties.
				ties := uniform[T](seed, n)
				for j := range ties {
					ties[j] = T(math.Floor(1.5 * (float64(ties[j]) + 1)))
				}
				for _, x := range [][]T{uniform[T](seed+1, n), ties} {
					if err := pool(y, arg, x, batch, g); err != nil {
						t.Fatal(err)
					}
					want, wantArg := directPool(x, batch, g)
					// A mean of Size² values of magnitude at most 2 rounds Size²+1
					// times; a maximum is exact.
					tol := 2 * float64(c.size*c.size+1) * u
					for j := range want {
						if !near(float64(y[j]), want[j], tol) {
							t.Fatalf("y[%d] = %v, direct loop %v", j, y[j], want[j])
						}
						if kind == Max && arg[j] != wantArg[j] {
							t.Fatalf("arg[%d] = %d, direct loop %d (x = %v there)", j, arg[j], wantArg[j], x[wantArg[j]])
						}
					}
				}

				// Backward: the adjoint identity on random x and G, dx prefilled
				// with NaN to show any element left unwritten.
				x, G := distinct[T](seed+2, n), uniform[T](seed+3, m)
				dx := filled(n, T(math.NaN()))
				if err := pool(y, arg, x, batch, g); err != nil {
					t.Fatal(err)
				}
				if err := poolBackward(dx, G, arg, batch, g); err != nil {
					t.Fatal(err)
				}
				checkAdjoint(t, y, G, x, dx, c.size*c.size+2)

				// Central differences of f at each input. The pools are
				// piecewise linear; the values of x are 1/16 apart and h = 1/128,
				// so no perturbation changes which value is a window's maximum and
				// the difference is exact but for rounding: each output of a mean
				// rounds Size²+1 times, by at most u·max|x| each (x±h stays exact:
				// x is a multiple of 1/16 below 2⁷), and f's float64 sum rounds m
				// times.
				const h = 1.0 / 128
				xmax := float64(n)/32 + h
				f := func(x []T) (sum, abs float64) {
					if err := pool(y, arg, x, batch, g); err != nil {
						t.Fatal(err)
					}
					return dot(y, G)
				}
				for j := range x {
					x0 := x[j]
					x[j] = x0 + h
					fp, abs := f(x)
					x[j] = x0 - h
					fm, _ := f(x)
					x[j] = x0
					fd := (fp - fm) / (2 * h)
					tol := (2*float64(c.size*c.size+1)*u*xmax + 2*float64(m)*0x1p-53*abs) / (2 * h)
					if !near(fd, float64(dx[j]), tol) {
						t.Fatalf("∂f/∂x[%d] = %v, central difference %v (tolerance %.3g)", j, dx[j], fd, tol)
					}
				}
			})
		}
	}
}

// TestMaxPoolSpecial checks the tie and NaN rules on one 2×2 window of each
// of five channels, worked out by hand.
func TestMaxPoolSpecial(t *testing.T) {
	nan, negZero := math.NaN(), math.Copysign(0, -1)
	// Pixels (0,0), (0,1), (1,0), (1,1), each with channels 0..4.
	x := []float64{
		1, 2, nan, 0, negZero,
		3, 2, 5, nan, 0,
		3, 1, nan, 4, -1,
		0, 2, 6, 4, -2,
	}
	g := Pool{In: Image{5, 2, 2}, Size: 2}
	y, arg := make([]float64, 5), make([]int32, 5)
	if err := MaxPool(y, arg, x, 1, g); err != nil {
		t.Fatal(err)
	}
	// Channel 0: 3 at pixels 1 and 2, the first wins. Channel 1: 2 at pixels
	// 0, 1 and 3. Channel 2: NaN at pixels 0 and 2, the first wins over 5 and
	// 6. Channel 3: the NaN at pixel 1 beats 4. Channel 4: −0 at pixel 0
	// equals +0 at pixel 1 and wins.
	wantArg := []int32{5, 1, 2, 8, 4}
	for i := range arg {
		if arg[i] != wantArg[i] {
			t.Errorf("channel %d: arg = %d, want %d", i, arg[i], wantArg[i])
		}
	}
	if y[0] != 3 || y[1] != 2 || !math.IsNaN(y[2]) || !math.IsNaN(y[3]) || y[4] != 0 || !math.Signbit(y[4]) {
		t.Errorf("y = %v, want [3 2 NaN NaN -0]", y)
	}
}

// TestPoolSubBatches checks that the pools on two pieces of a batch give the
// numbers of one call, MaxPool's indices counting from the start of each
// piece.
func TestPoolSubBatches(t *testing.T) {
	in := Image{3, 5, 7}
	const batch, cut = 5, 3
	n := in.Len()
	x := uniform[float32](7, batch*n)
	for _, kind := range []PoolKind{Max, Avg} {
		g := Pool{In: in, Size: 2, Kind: kind}
		m := g.Out().Len()
		y, arg := make([]float32, batch*m), make([]int32, batch*m)
		yp, argp := make([]float32, batch*m), make([]int32, batch*m)
		dx, dxp := make([]float32, batch*n), make([]float32, batch*n)
		steps := []error{
			pool(y, arg, x, batch, g),
			pool(yp[:cut*m], argp[:cut*m], x[:cut*n], cut, g),
			pool(yp[cut*m:], argp[cut*m:], x[cut*n:], batch-cut, g),
			poolBackward(dx, y, arg, batch, g),
			poolBackward(dxp[:cut*n], y[:cut*m], argp[:cut*m], cut, g),
			poolBackward(dxp[cut*n:], y[cut*m:], argp[cut*m:], batch-cut, g),
		}
		for _, err := range steps {
			if err != nil {
				t.Fatal(err)
			}
		}
		for i := range y {
			if y[i] != yp[i] {
				t.Fatalf("%v: y[%d] is %v in one call, %v in two", kind, i, y[i], yp[i])
			}
			if off := int32(i / (cut * m) * cut * n); kind == Max && arg[i] != argp[i]+off {
				t.Fatalf("%v: arg[%d] is %d in one call, %d + %d in two", kind, i, arg[i], argp[i], off)
			}
		}
		for i := range dx {
			if dx[i] != dxp[i] {
				t.Fatalf("%v: dx[%d] is %v in one call, %v in two", kind, i, dx[i], dxp[i])
			}
		}
	}
}

func TestPoolAllocs(t *testing.T) {
	in := Image{6, 24, 24}
	const batch = 4
	mp, ap := Pool{In: in, Size: 2}, Pool{In: in, Size: 2, Kind: Avg}
	n, m := batch*in.Len(), batch*mp.Out().Len()
	arg := make([]int32, m)
	x32, y32 := make([]float32, n), make([]float32, m)
	x64, y64 := make([]float64, n), make([]float64, m)
	allocs(t, "MaxPool[float32]", func() error { return MaxPool(y32, arg, x32, batch, mp) })
	allocs(t, "MaxPoolBackward[float32]", func() error { return MaxPoolBackward(x32, y32, arg, batch, mp) })
	allocs(t, "AvgPool[float32]", func() error { return AvgPool(y32, x32, batch, ap) })
	allocs(t, "AvgPoolBackward[float32]", func() error { return AvgPoolBackward(x32, y32, batch, ap) })
	allocs(t, "MaxPool[float64]", func() error { return MaxPool(y64, arg, x64, batch, mp) })
	allocs(t, "MaxPoolBackward[float64]", func() error { return MaxPoolBackward(x64, y64, arg, batch, mp) })
	allocs(t, "AvgPool[float64]", func() error { return AvgPool(y64, x64, batch, ap) })
	allocs(t, "AvgPoolBackward[float64]", func() error { return AvgPoolBackward(x64, y64, batch, ap) })
}
