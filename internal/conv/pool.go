package conv

import "fmt"

// MaxPool writes into dst the maximum of each window of the batch x of batch
// images of shape g.In, and into arg the flat index in x of the value chosen.
// Within a window the first maximum in row-major order (the lowest index)
// wins ties; a NaN counts as larger than every number, so NaNs propagate (the
// first NaN wins). g.Kind must be Max; x must have batch·g.In.Len() elements,
// dst and arg batch·g.Out().Len() each.
func MaxPool[T float32 | float64](dst []T, arg []int32, x []T, batch int, g Pool) error {
	if err := g.checkBuffers(Max, batch, len(dst), len(x), "dst", "x"); err != nil {
		return fmt.Errorf("conv: MaxPool: %w", err)
	}
	if err := checkLen("arg", len(arg), len(dst)); err != nil {
		return fmt.Errorf("conv: MaxPool: %w", err)
	}
	in, out, s, c := g.In, g.out(), g.Size, g.In.C
	o := 0
	for b := range batch {
		base := b * in.Len()
		for oy := range out.H {
			for ox := range out.W {
				d, a := dst[o:o+c], arg[o:o+c]
				o += c
				corner := base + (oy*s*in.W+ox*s)*c
				copy(d, x[corner:corner+c])
				for i := range a {
					a[i] = int32(corner + i)
				}
				for ky := range s {
					for kx := range s {
						if ky == 0 && kx == 0 {
							continue
						}
						q := corner + (ky*in.W+kx)*c
						v := x[q : q+len(d)]
						// The builtin max and a strict comparison feeding a
						// conditional move: random data would mispredict a branch.
						for i, xv := range v {
							di, ai := d[i], a[i]
							if xv > di {
								ai = int32(q + i)
							}
							d[i], a[i] = max(di, xv), ai
						}
					}
				}
				// max propagated any NaN to d, but the comparisons never chose
				// one; and it prefers +0 to an earlier −0. Make d[i] = x[a[i]].
				for i, di := range d {
					if di != di {
						a[i] = int32(firstNaN(x, corner+i, s, c, in.W*c))
					}
					d[i] = x[a[i]]
				}
			}
		}
	}
	return nil
}

// firstNaN returns the index of the first NaN of the s×s window of x whose
// top-left value is at index p, its columns step apart and its rows rowStep
// apart, or p if it has none.
func firstNaN[T float32 | float64](x []T, p, s, step, rowStep int) int {
	for ky := range s {
		q := p + ky*rowStep
		for range s {
			if x[q] != x[q] {
				return q
			}
			q += step
		}
	}
	return p
}

// MaxPoolBackward overwrites dx, a batch of batch images of shape g.In, with
// the gradient of MaxPool: dy[i] at index arg[i] of each output i and zero
// elsewhere, where arg holds the indices MaxPool recorded. g.Kind must be
// Max; dy and arg must have batch·g.Out().Len() elements and dx
// batch·g.In.Len(). An index outside dx is an error, and dx then holds
// unspecified values.
func MaxPoolBackward[T float32 | float64](dx, dy []T, arg []int32, batch int, g Pool) error {
	if err := g.checkBuffers(Max, batch, len(dy), len(dx), "dy", "dx"); err != nil {
		return fmt.Errorf("conv: MaxPoolBackward: %w", err)
	}
	if err := checkLen("arg", len(arg), len(dy)); err != nil {
		return fmt.Errorf("conv: MaxPoolBackward: %w", err)
	}
	clear(dx)
	dy = dy[:len(arg)]
	for i, j := range arg {
		if j < 0 || int(j) >= len(dx) {
			return fmt.Errorf("conv: MaxPoolBackward: arg[%d] = %d is outside dx (%d elements)", i, j, len(dx))
		}
		dx[j] += dy[i]
	}
	return nil
}

// AvgPool writes into dst the mean of each window of the batch x of batch
// images of shape g.In: the sum of the Size² values times 1/Size². g.Kind must
// be Avg; x must have batch·g.In.Len() elements and dst batch·g.Out().Len().
func AvgPool[T float32 | float64](dst, x []T, batch int, g Pool) error {
	if err := g.checkBuffers(Avg, batch, len(dst), len(x), "dst", "x"); err != nil {
		return fmt.Errorf("conv: AvgPool: %w", err)
	}
	in, out, s, c := g.In, g.out(), g.Size, g.In.C
	scale := 1 / T(s*s)
	o := 0
	for b := range batch {
		base := b * in.Len()
		for oy := range out.H {
			for ox := range out.W {
				d := dst[o : o+c]
				o += c
				corner := base + (oy*s*in.W+ox*s)*c
				copy(d, x[corner:corner+c])
				for ky := range s {
					for kx := range s {
						if ky == 0 && kx == 0 {
							continue
						}
						q := corner + (ky*in.W+kx)*c
						for i, xv := range x[q : q+len(d)] {
							d[i] += xv
						}
					}
				}
				for i := range d {
					d[i] *= scale
				}
			}
		}
	}
	return nil
}

// AvgPoolBackward overwrites dx, a batch of batch images of shape g.In, with
// the gradient of AvgPool: dy of each window times 1/Size² at each of its
// pixels, and zero at the trailing rows and columns no window covers. g.Kind
// must be Avg; dy must have batch·g.Out().Len() elements and dx
// batch·g.In.Len().
func AvgPoolBackward[T float32 | float64](dx, dy []T, batch int, g Pool) error {
	if err := g.checkBuffers(Avg, batch, len(dy), len(dx), "dy", "dx"); err != nil {
		return fmt.Errorf("conv: AvgPoolBackward: %w", err)
	}
	in, out, s, c := g.In, g.out(), g.Size, g.In.C
	scale := 1 / T(s*s)
	if in.H%s != 0 || in.W%s != 0 {
		clear(dx) // only the uncovered pixels need it
	}
	rowLen := in.W * c       // one row of an image
	covered := out.W * s * c // the part of a row the windows cover
	o := 0
	for b := range batch {
		for oy := range out.H {
			// Write the top row of the windows, then copy it to the others.
			top := (b*in.H + oy*s) * rowLen
			row := dx[top : top+covered]
			for ox := range out.W {
				grad := dy[o : o+c]
				o += c
				for kx := range s {
					seg := row[(ox*s+kx)*c : (ox*s+kx+1)*c]
					for i, v := range grad {
						seg[i] = v * scale
					}
				}
			}
			for ky := 1; ky < s; ky++ {
				copy(dx[top+ky*rowLen:top+ky*rowLen+covered], row)
			}
		}
	}
	return nil
}

// checkBuffers checks g for batch and kind, and the lengths of an output and
// an input batch.
func (g Pool) checkBuffers(kind PoolKind, batch, outLen, inLen int, outName, inName string) error {
	if err := g.check(batch); err != nil {
		return err
	}
	if g.Kind != kind {
		return fmt.Errorf("pool kind is %v, want %v", g.Kind, kind)
	}
	if err := checkLen(inName, inLen, batch*g.In.Len()); err != nil {
		return err
	}
	return checkLen(outName, outLen, batch*g.out().Len())
}
