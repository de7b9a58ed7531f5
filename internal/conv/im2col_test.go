package conv

import (
	"math"
	"testing"
)

// directConv computes Y[b,oy,ox,f] = bias[f] + Σ x[b,iy,ix,c]·w[ky,kx,c,f],
// iy = oy·Stride − Pad + ky and ix = ox·Stride − Pad + kx, skipping taps in
// the padding, in float64 from the definition. It also returns Σ|terms| of
// each output, which bounds the rounding error of any other summation order.
func directConv[T float](x, w, bias []T, batch int, g Conv, oh, ow int) (y, abs []float64) {
	in, k, f := g.In, g.Kernel, g.Filters
	at := func(b, iy, ix, c int) float64 { return float64(x[((b*in.H+iy)*in.W+ix)*in.C+c]) }
	y = make([]float64, batch*oh*ow*f)
	abs = make([]float64, len(y))
	for b := 0; b < batch; b++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for fi := 0; fi < f; fi++ {
					o := ((b*oh+oy)*ow+ox)*f + fi
					y[o], abs[o] = float64(bias[fi]), math.Abs(float64(bias[fi]))
					for ky := 0; ky < k; ky++ {
						for kx := 0; kx < k; kx++ {
							iy, ix := oy*g.Stride-g.Pad+ky, ox*g.Stride-g.Pad+kx
							if iy < 0 || iy >= in.H || ix < 0 || ix >= in.W {
								continue
							}
							for c := 0; c < in.C; c++ {
								t := at(b, iy, ix, c) * float64(w[((ky*k+kx)*in.C+c)*f+fi])
								y[o] += t
								abs[o] += math.Abs(t)
							}
						}
					}
				}
			}
		}
	}
	return y, abs
}

// directInputGrad computes the gradient of Σ dy·Y with respect to x for the
// convolution of directConv, dx[b,iy,ix,c] = Σ dy[b,oy,ox,f]·w[ky,kx,c,f] over
// every output whose patch covers (iy, ix), in float64, with Σ|terms|.
func directInputGrad[T float](dy, w []T, batch int, g Conv, oh, ow int) (dx, abs []float64) {
	in, k, f := g.In, g.Kernel, g.Filters
	dx = make([]float64, batch*in.Len())
	abs = make([]float64, len(dx))
	for b := 0; b < batch; b++ {
		for iy := 0; iy < in.H; iy++ {
			for ix := 0; ix < in.W; ix++ {
				for c := 0; c < in.C; c++ {
					i := ((b*in.H+iy)*in.W+ix)*in.C + c
					for oy := 0; oy < oh; oy++ {
						for ox := 0; ox < ow; ox++ {
							ky, kx := iy-oy*g.Stride+g.Pad, ix-ox*g.Stride+g.Pad
							if ky < 0 || ky >= k || kx < 0 || kx >= k {
								continue
							}
							for fi := 0; fi < f; fi++ {
								t := float64(dy[((b*oh+oy)*ow+ox)*f+fi]) * float64(w[((ky*k+kx)*in.C+c)*f+fi])
								dx[i] += t
								abs[i] += math.Abs(t)
							}
						}
					}
				}
			}
		}
	}
	return dx, abs
}

// matmul returns the r×n product of the r×m matrix a and the m×n matrix b,
// plus bias on every row, summed in T.
func matmul[T float](a, b, bias []T, r, m, n int) []T {
	c := make([]T, r*n)
	for i := 0; i < r; i++ {
		for j := 0; j < n; j++ {
			s := bias[j]
			for l := 0; l < m; l++ {
				s += a[i*m+l] * b[l*n+j]
			}
			c[i*n+j] = s
		}
	}
	return c
}

// transpose returns the n×m transpose of the m×n matrix a.
func transpose[T float](a []T, m, n int) []T {
	t := make([]T, len(a))
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			t[j*m+i] = a[i*n+j]
		}
	}
	return t
}

func TestIm2col(t *testing.T) {
	t.Run("float32", testIm2col[float32])
	t.Run("float64", testIm2col[float64])
}

// testIm2col checks, for every geometry, that Im2col followed by a matrix
// product is the direct convolution, that Col2im of dY·Wkᵀ is the direct
// input gradient, and the adjoint identity ⟨Im2col(x), G⟩ = ⟨x, Col2im(G)⟩.
// A result computed with m products in T differs from the exact one by at
// most γ_m·Σ|terms| ≈ m·u·Σ|terms| (u the unit roundoff), whatever the
// summation order; the tolerances use 2·(m+1)·u.
func testIm2col[T float](t *testing.T) {
	u := unitRoundoff[T]()
	for i, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			g, batch := c.g, c.batch
			rows, width := batch*c.oh*c.ow, g.PatchWidth()
			seed := uint64(10 * i)
			x := uniform[T](seed, batch*g.In.Len())
			w := uniform[T](seed+1, width*g.Filters)
			bias := uniform[T](seed+2, g.Filters)

			cols := filled(rows*width, T(math.NaN())) // Im2col must write every element
			if err := Im2col(cols, x, batch, g); err != nil {
				t.Fatal(err)
			}
			y := matmul(cols, w, bias, rows, width, g.Filters)
			want, abs := directConv(x, w, bias, batch, g, c.oh, c.ow)
			tol := 2 * float64(width+2) * u
			for j := range want {
				if !near(float64(y[j]), want[j], tol*abs[j]) {
					t.Fatalf("Y[%d] = %v, direct convolution %v", j, y[j], want[j])
				}
			}

			dy := uniform[T](seed+3, rows*g.Filters)
			dcols := matmul(dy, transpose(w, width, g.Filters), make([]T, width), rows, g.Filters, width)
			dx := filled(len(x), T(math.NaN())) // Col2im must overwrite dx
			if err := Col2im(dx, dcols, batch, g); err != nil {
				t.Fatal(err)
			}
			wantDx, absDx := directInputGrad(dy, w, batch, g, c.oh, c.ow)
			// Each dx sums at most Kernel² patches of Filters products.
			tol = 2 * float64(g.Filters+g.Kernel*g.Kernel+1) * u
			for j := range wantDx {
				if !near(float64(dx[j]), wantDx[j], tol*absDx[j]) {
					t.Fatalf("dx[%d] = %v, direct input gradient %v", j, dx[j], wantDx[j])
				}
			}

			// Adjoint identity for random G; each dx element is a sum of at most
			// Kernel² entries of G.
			G := uniform[T](seed+4, rows*width)
			if err := Col2im(dx, G, batch, g); err != nil {
				t.Fatal(err)
			}
			checkAdjoint(t, cols, G, x, dx, g.Kernel*g.Kernel)
		})
	}
}

// TestSubBatches checks the documented promise that a batch may be cut at
// example boundaries: Im2col and Col2im on the pieces give exactly the
// numbers of one call on the whole batch.
func TestSubBatches(t *testing.T) {
	g := Conv{In: Image{3, 7, 6}, Filters: 2, Kernel: 3, Stride: 2, Pad: 1}
	const batch, cut = 5, 2
	rows := g.Out().H * g.Out().W
	in, width := g.In.Len(), g.PatchWidth()
	x := uniform[float64](1, batch*in)
	whole, parts := make([]float64, batch*rows*width), make([]float64, batch*rows*width)
	if err := Im2col(whole, x, batch, g); err != nil {
		t.Fatal(err)
	}
	if err := Im2col(parts[:cut*rows*width], x[:cut*in], cut, g); err != nil {
		t.Fatal(err)
	}
	if err := Im2col(parts[cut*rows*width:], x[cut*in:], batch-cut, g); err != nil {
		t.Fatal(err)
	}
	dxWhole, dxParts := make([]float64, len(x)), make([]float64, len(x))
	if err := Col2im(dxWhole, whole, batch, g); err != nil {
		t.Fatal(err)
	}
	if err := Col2im(dxParts[:cut*in], whole[:cut*rows*width], cut, g); err != nil {
		t.Fatal(err)
	}
	if err := Col2im(dxParts[cut*in:], whole[cut*rows*width:], batch-cut, g); err != nil {
		t.Fatal(err)
	}
	for i := range whole {
		if whole[i] != parts[i] {
			t.Fatalf("Im2col: patch element %d is %v in one call, %v in two", i, whole[i], parts[i])
		}
	}
	for i := range dxWhole {
		if dxWhole[i] != dxParts[i] {
			t.Fatalf("Col2im: dx[%d] is %v in one call, %v in two", i, dxWhole[i], dxParts[i])
		}
	}
}

func TestIm2colAllocs(t *testing.T) {
	g := Conv{In: Image{6, 12, 12}, Filters: 16, Kernel: 5, Stride: 1, Pad: 2}
	const batch = 4
	n, m := batch*g.In.Len(), batch*g.Out().H*g.Out().W*g.PatchWidth()
	x32, cols32 := make([]float32, n), make([]float32, m)
	x64, cols64 := make([]float64, n), make([]float64, m)
	allocs(t, "Im2col[float32]", func() error { return Im2col(cols32, x32, batch, g) })
	allocs(t, "Col2im[float32]", func() error { return Col2im(x32, cols32, batch, g) })
	allocs(t, "Im2col[float64]", func() error { return Im2col(cols64, x64, batch, g) })
	allocs(t, "Col2im[float64]", func() error { return Col2im(x64, cols64, batch, g) })
}
