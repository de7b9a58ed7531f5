package conv

import "fmt"

// Im2col writes the patch matrix of the batch x of batch images of shape
// g.In into dst: row (b·OH + oy)·OW + ox holds the Kernel×Kernel patch whose
// top-left corner is input pixel (oy·Stride − Pad, ox·Stride − Pad) of example
// b, its columns in the order (ky, kx, c), with zeros where the patch lies in
// the padding. x must have batch·g.In.Len() elements and dst
// batch·OH·OW·g.PatchWidth(); every element of dst is overwritten.
func Im2col[T float32 | float64](dst, x []T, batch int, g Conv) error {
	if err := g.checkBuffers(batch, len(dst), len(x), "dst", "x"); err != nil {
		return fmt.Errorf("conv: Im2col: %w", err)
	}
	in, out := g.In, g.out()
	k, c, s, p := g.Kernel, in.C, g.Stride, g.Pad
	row := k * c // one kernel row of a patch: (kx, c)
	width := k * row
	imgLen := in.Len()
	d := 0
	for b := range batch {
		img := x[b*imgLen : (b+1)*imgLen]
		for oy := range out.H {
			y0 := oy*s - p
			for ox := range out.W {
				x0 := ox*s - p
				lo, hi := max(0, -x0), min(k, in.W-x0) // the taps kx inside the image
				patch := dst[d : d+width]
				d += width
				for ky := range k {
					r := patch[ky*row : (ky+1)*row]
					iy := y0 + ky
					if iy < 0 || iy >= in.H {
						clear(r)
						continue
					}
					if lo > 0 {
						clear(r[:lo*c])
					}
					src := (iy*in.W + x0 + lo) * c
					copy(r[lo*c:hi*c], img[src:src+(hi-lo)*c])
					if hi < k {
						clear(r[hi*c:])
					}
				}
			}
		}
	}
	return nil
}

// Col2im is the adjoint of Im2col: it overwrites dx, a batch of batch images
// of shape g.In, with the sum over all patches of cols, a patch matrix laid
// out as Im2col writes it, added back at the pixels each patch was read from
// (entries in the padding are dropped). Given the gradient of a loss with
// respect to the patch matrix, it writes the gradient with respect to the
// input. cols must have batch·OH·OW·g.PatchWidth() elements and dx
// batch·g.In.Len().
func Col2im[T float32 | float64](dx, cols []T, batch int, g Conv) error {
	if err := g.checkBuffers(batch, len(cols), len(dx), "cols", "dx"); err != nil {
		return fmt.Errorf("conv: Col2im: %w", err)
	}
	in, out := g.In, g.out()
	k, c, s, p := g.Kernel, in.C, g.Stride, g.Pad
	row := k * c
	width := k * row
	imgLen := in.Len()
	clear(dx)
	d := 0
	for b := range batch {
		img := dx[b*imgLen : (b+1)*imgLen]
		for oy := range out.H {
			y0 := oy*s - p
			for ox := range out.W {
				x0 := ox*s - p
				lo, hi := max(0, -x0), min(k, in.W-x0)
				patch := cols[d : d+width]
				d += width
				for ky := range k {
					iy := y0 + ky
					if iy < 0 || iy >= in.H {
						continue
					}
					r := patch[ky*row+lo*c : ky*row+hi*c]
					dst := (iy*in.W + x0 + lo) * c
					seg := img[dst : dst+len(r)]
					for i, v := range r {
						seg[i] += v
					}
				}
			}
		}
	}
	return nil
}

// checkBuffers checks g for batch and the lengths of a patch matrix and an
// input batch.
func (g Conv) checkBuffers(batch, colsLen, imgLen int, colsName, imgName string) error {
	if err := g.check(batch); err != nil {
		return err
	}
	out := g.out()
	if err := checkLen(imgName, imgLen, batch*g.In.Len()); err != nil {
		return err
	}
	return checkLen(colsName, colsLen, batch*out.H*out.W*g.PatchWidth())
}
